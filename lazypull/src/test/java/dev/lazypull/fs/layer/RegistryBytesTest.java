package dev.lazypull.fs.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class RegistryBytesTest {

  @Test
  void fetch_registryStallsAfterAccepting_failsWithinTheDeadlineAndLetsGo() throws Exception {
    // The read waited for the HTTP client's read timeout (60 s) times its retries, far past the
    // mount's read timeout: a stalled registry hung the reader.
    List<Socket> accepted = new CopyOnWriteArrayList<>();
    try (var stalled = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Thread.ofVirtual()
          .start(
              () -> {
                while (!stalled.isClosed()) {
                  try {
                    accepted.add(stalled.accept()); // reads nothing, answers nothing
                  } catch (IOException closed) {
                    return;
                  }
                }
              });
      var client =
          RegistryClient.create(
              RegistryOptions.defaults()
                  .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(60)));
      byte[] blob = new byte[1000];
      var layer = Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(blob), blob.length);
      var bytes =
          new RegistryBytes(
              client,
              ImageReference.parse("127.0.0.1:" + stalled.getLocalPort() + "/stalled:1"),
              layer,
              Duration.ofSeconds(1));

      long start = System.nanoTime();
      assertThatThrownBy(() -> bytes.fetch(0, 100))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("no answer within 1000 ms");
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("bounded by the 1 s deadline, not the 60 s HTTP read timeout")
          .isLessThan(Duration.ofSeconds(10));
      awaitClosedByClient(accepted);
    } finally {
      for (Socket socket : accepted) {
        socket.close();
      }
    }
  }

  /** The interrupted fetch closes its connection: the server sees end of stream. */
  private static void awaitClosedByClient(List<Socket> accepted) throws Exception {
    assertThat(accepted).isNotEmpty();
    Socket socket = accepted.getFirst();
    socket.setSoTimeout(5000);
    var in = socket.getInputStream();
    byte[] buffer = new byte[4096];
    // The request itself comes first; then the client closes.
    while (in.read(buffer) >= 0) {
      // Drain the request.
    }
  }
}
