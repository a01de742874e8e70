package dev.lazypull.snapshotter;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshotter's Prometheus metrics: snapshots by kind, lazily mounted layers, what the lazy
 * layers fetched, and gRPC calls by method and status. Served at {@code /metrics} when an address
 * is configured.
 */
public final class SnapshotterMetrics implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SnapshotterMetrics.class);

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter grpcCalls;
  private @Nullable HTTPServer server;

  public SnapshotterMetrics(Snapshotter snapshotter, @Nullable RemoteLayerMounter remote) {
    GaugeWithCallback.builder()
        .name("lazypull_snapshots")
        .help("Snapshots the snapshotter holds, by kind")
        .labelNames("kind")
        .callback(
            callback -> {
              for (var entry : countByKind(snapshotter).entrySet()) {
                callback.call(entry.getValue(), entry.getKey().name().toLowerCase(Locale.ROOT));
              }
            })
        .register(registry);
    grpcCalls =
        Counter.builder()
            .name("lazypull_grpc_requests_total")
            .help("Snapshots gRPC calls answered, by method and status code")
            .labelNames("method", "code")
            .register(registry);
    if (remote != null) {
      registerRemote(remote);
    }
  }

  private void registerRemote(RemoteLayerMounter remote) {
    GaugeWithCallback.builder()
        .name("lazypull_remote_layers_mounted")
        .help("Image layers served lazily over FUSE right now")
        .callback(callback -> callback.call(remote.mountedCount()))
        .register(registry);
    var counters = remote.counters();
    CounterWithCallback.builder()
        .name("lazypull_fetched_compressed_bytes_total")
        .help("Compressed layer bytes fetched from registries for spans")
        .callback(callback -> callback.call(counters.compressedBytes()))
        .register(registry);
    CounterWithCallback.builder()
        .name("lazypull_fetch_requests_total")
        .help("Range requests sent to registries")
        .callback(callback -> callback.call(counters.requests()))
        .register(registry);
    CounterWithCallback.builder()
        .name("lazypull_spans_fetched_total")
        .help("Spans fetched, by what asked for them")
        .labelNames("trigger")
        .callback(
            callback -> {
              callback.call(counters.onDemandSpans(), "on_demand");
              callback.call(counters.backgroundSpans(), "background");
            })
        .register(registry);
    CounterWithCallback.builder()
        .name("lazypull_span_digest_mismatches_total")
        .help("Fetched spans whose bytes did not match their digest (never served)")
        .callback(callback -> callback.call(counters.digestMismatches()))
        .register(registry);
  }

  private static Map<SnapshotKind, Long> countByKind(Snapshotter snapshotter) {
    Map<SnapshotKind, Long> counts = new EnumMap<>(SnapshotKind.class);
    for (SnapshotKind kind : SnapshotKind.values()) {
      counts.put(kind, 0L);
    }
    try {
      for (Snapshot snapshot : snapshotter.list(List.of())) {
        counts.merge(snapshot.kind(), 1L, Long::sum);
      }
    } catch (SnapshotException | IOException e) {
      log.warn("counting snapshots for metrics failed: {}", e.toString());
    }
    return counts;
  }

  /** Counts one answered gRPC call; {@code code} is the gRPC status name, e.g. NOT_FOUND. */
  void recordCall(String method, String code) {
    grpcCalls.labelValues(method, code).inc();
  }

  /** Serves {@code /metrics} at {@code address}; returns the port (useful with port 0). */
  public int serve(InetSocketAddress address) throws IOException {
    server =
        HTTPServer.builder()
            .inetAddress(address.getAddress())
            .port(address.getPort())
            .registry(registry)
            .buildAndStart();
    log.info("metrics at http://{}:{}/metrics", address.getHostString(), server.getPort());
    return server.getPort();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
  }
}
