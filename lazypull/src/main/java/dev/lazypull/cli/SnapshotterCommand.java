package dev.lazypull.cli;

import dev.lazypull.registry.RegistryClient;
import dev.lazypull.snapshotter.FdHolderClient;
import dev.lazypull.snapshotter.RemoteLayerMounter;
import dev.lazypull.snapshotter.Snapshotter;
import dev.lazypull.snapshotter.SnapshotterConfig;
import dev.lazypull.snapshotter.SnapshotterMetrics;
import dev.lazypull.snapshotter.SnapshotterServer;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code lazypull snapshotter}: the containerd proxy snapshotter daemon. */
@Command(
    name = "snapshotter",
    mixinStandardHelpOptions = true,
    description = {
      "Serve containerd's snapshots API on a unix socket (a containerd proxy plugin).",
      "containerd's config.toml: [proxy_plugins.lazypull] type = \"snapshot\" address = SOCKET",
      "Settings come from --config (TOML); options given here override them."
    })
public final class SnapshotterCommand implements Callable<Integer>, CommandFailure.Action {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Settings file; a missing file means defaults (default: ${DEFAULT-VALUE}).",
      defaultValue = "/etc/lazypull/config.toml")
  Path configFile;

  @Option(
      names = "--root",
      description =
          "Directory for snapshots and their metadata (default /var/lib/lazypull/snapshotter).")
  @Nullable Path root;

  @Option(
      names = "--address",
      description = "Unix socket to serve on (default /run/lazypull/snapshotter.sock).")
  @Nullable Path address;

  @Option(
      names = "--cache-size",
      paramLabel = "MIB",
      description = "Size limit of the span cache in MiB (default 10240).")
  @Nullable Long cacheMib;

  @Option(
      names = "--read-timeout",
      paramLabel = "SECONDS",
      description = "How long a read may wait for registry bytes (default 60).")
  @Nullable Long readTimeoutSeconds;

  @Option(
      names = "--metrics-address",
      paramLabel = "HOST:PORT",
      description = "Serve Prometheus metrics at http://HOST:PORT/metrics (default: off).")
  @Nullable String metricsAddress;

  @Option(
      names = "--no-remote",
      description = "Never serve layers lazily: plain snapshots only (containerd downloads).")
  boolean noRemote;

  @Option(
      names = "--no-fd-holder",
      description =
          "Do not keep the FUSE connections of lazy layers in a holder process: a restart then"
              + " mounts every layer anew, and running containers lose theirs (ENOTCONN).")
  boolean noFdHolder;

  @Mixin RegistryOptionsMixin registry;

  @Override
  public String action() {
    return "snapshotter" + (address == null ? "" : " on " + address);
  }

  @Override
  public Integer call() throws Exception {
    SnapshotterConfig config = SnapshotterConfig.load(configFile);
    Path absoluteRoot = (root != null ? root : config.root()).toAbsolutePath();
    Path socket = (address != null ? address : config.address()).toAbsolutePath();
    RemoteLayerMounter remote =
        noRemote || !config.remote()
            ? null
            : new RemoteLayerMounter(
                registryClient(config),
                absoluteRoot.resolve("cache"),
                (cacheMib != null ? cacheMib : config.cacheMib()) << 20,
                Duration.ofSeconds(
                    readTimeoutSeconds != null ? readTimeoutSeconds : config.readTimeoutSeconds()));
    if (remote != null && !noFdHolder) {
      java.nio.file.Files.createDirectories(absoluteRoot);
      Path holderSocket = absoluteRoot.resolve(FdHolderCommand.SOCKET_NAME);
      try {
        remote.useFdHolder(
            FdHolderClient.connectOrStart(
                holderSocket,
                FdHolderCommand.command(holderSocket),
                absoluteRoot.resolve("fd-holder.log")));
      } catch (java.io.IOException e) {
        // Not fatal: the snapshotter works as before, only restarts cost running containers.
        org.slf4j.LoggerFactory.getLogger(SnapshotterCommand.class)
            .warn(
                "no fd holder ({}); lazy layers will not survive a restart of this daemon",
                e.getMessage());
      }
    }
    dev.lazypull.fs.layer.FetchConcurrency.limit(config.fetchConcurrency());
    if (remote != null && config.backgroundFetch() != null) {
      // Before Snapshotter.open, which mounts the remote layers of an earlier run again.
      remote.enableBackgroundFetch(config.backgroundFetch());
    }
    if (remote != null && config.estargzAllowNoVerification()) {
      remote.allowUnverifiedToc(true);
    }
    var snapshotter = Snapshotter.open(absoluteRoot, remote);
    var metrics = new SnapshotterMetrics(snapshotter, remote);
    SnapshotterServer server;
    try {
      String metricsAt = metricsAddress != null ? metricsAddress : config.metricsAddress();
      if (metricsAt != null) {
        metrics.serve(hostPort(metricsAt));
      }
      server = SnapshotterServer.start(snapshotter, socket, metrics);
    } catch (Exception e) {
      metrics.close();
      snapshotter.close();
      throw e;
    }
    var closed = new CountDownLatch(1);
    // SIGTERM and SIGINT run shutdown hooks: stop serving, then close the metadata database.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try (snapshotter;
                      server;
                      metrics) {
                    // closing both is the point
                  } catch (Exception e) {
                    // The process is ending; the next start replaces the socket file.
                  } finally {
                    closed.countDown();
                  }
                }));
    server.awaitTermination();
    closed.await();
    return 0;
  }

  private static InetSocketAddress hostPort(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(
          "metrics address '" + text + "' is not HOST:PORT (e.g. 127.0.0.1:9464)");
    }
    return new InetSocketAddress(
        text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
  }

  /** The command line's registry options plus the config file's hosts, mirrors and TLS. */
  private RegistryClient registryClient(SnapshotterConfig config) throws Exception {
    return RegistryClient.create(config.registryOptions(registry.options(), configFile));
  }
}
