package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.snapshotter.api.PrepareSnapshotRequest;
import dev.lazypull.snapshotter.api.StatSnapshotRequest;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotterMetricsTest {
  @TempDir Path dir;

  private static <T> StreamObserver<T> ignore() {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  @Test
  void metrics_countSnapshotsAndCallsByStatus() throws Exception {
    try (var snapshotter = Snapshotter.open(dir);
        var metrics = new SnapshotterMetrics(snapshotter, null)) {
      var service = new SnapshotsService(snapshotter, metrics);
      service.prepare(PrepareSnapshotRequest.newBuilder().setKey("a").build(), ignore());
      service.stat(StatSnapshotRequest.newBuilder().setKey("missing").build(), ignore());
      int port = metrics.serve(new InetSocketAddress("127.0.0.1", 0));

      String body =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();

      assertThat(body)
          .contains("lazypull_snapshots{kind=\"active\"} 1")
          .contains("lazypull_snapshots{kind=\"committed\"} 0")
          .contains("lazypull_grpc_requests_total{code=\"OK\",method=\"prepare\"} 1")
          .contains("lazypull_grpc_requests_total{code=\"NOT_FOUND\",method=\"stat\"} 1");
    }
  }
}
