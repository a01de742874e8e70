package dev.lazypull.snapshotter;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.fuse.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The fd holder in this JVM: descriptors really pass through SCM_RIGHTS, both ways. */
@Timeout(60)
class FdHolderTest {
  @TempDir Path dir;

  private Thread startHolder(Path socket, Duration grace) throws Exception {
    Thread holder =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    FdHolder.serveHere(socket, grace);
                  } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                  }
                });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!Files.exists(FdHolder.pidFile(socket))) { // written once it listens
      assertThat(System.nanoTime()).as("holder socket within 10 s").isLessThan(deadline);
      Thread.sleep(10);
    }
    return holder;
  }

  private static int openReadWrite(Path file) {
    int fd = Libc.open(file.toString().getBytes(StandardCharsets.UTF_8), Libc.O_RDWR);
    assertThat(fd).as("open " + file).isNotNegative();
    return fd;
  }

  private static void write(int fd, String text) {
    try (var arena = Arena.ofConfined()) {
      byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
      var buffer = arena.allocate(bytes.length);
      buffer.copyFrom(java.lang.foreign.MemorySegment.ofArray(bytes));
      assertThat(Libc.write(fd, buffer, bytes.length)).isEqualTo(bytes.length);
    }
  }

  private static String read(int fd, int size) {
    try (var arena = Arena.ofConfined()) {
      var buffer = arena.allocate(size);
      long n = Libc.pread(fd, buffer, size, 0);
      assertThat(n).isNotNegative();
      return new String(buffer.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
    }
  }

  @Test
  void aDescriptorPutAndClosedHereComesBackAsTheSameOpenFile() throws Exception {
    Path socket = dir.resolve("h.sock");
    Thread holder = startHolder(socket, Duration.ofSeconds(30));
    Path file = Files.writeString(dir.resolve("data"), "");
    try (var client = FdHolderClient.connect(socket)) {
      int fd = openReadWrite(file);
      write(fd, "before ");
      client.put("/mnt/a", fd, "layer=x nodes=3 maxWrite=4096");
      assertThat(Libc.close(fd)).isZero(); // only the holder keeps the file open now

      var back = client.get("/mnt/a").orElseThrow();
      assertThat(back.meta()).isEqualTo("layer=x nodes=3 maxWrite=4096");
      // The same open file description: its offset is where our write left it.
      write(back.fd(), "after");
      assertThat(Files.readString(file)).isEqualTo("before after");
      assertThat(read(back.fd(), 100)).isEqualTo("before after");
      Libc.close(back.fd());

      assertThat(client.list()).containsExactly("/mnt/a");
      client.drop("/mnt/a");
      assertThat(client.get("/mnt/a")).isEmpty();
      assertThat(client.list()).isEmpty();
    } finally {
      holder.interrupt();
    }
  }

  @Test
  void theHolderEndsOnceNoClientHasBeenConnectedForTheGracePeriod() throws Exception {
    Path socket = dir.resolve("h.sock");
    Thread holder = startHolder(socket, Duration.ofMillis(500));
    try (var client = FdHolderClient.connect(socket)) {
      int fd = openReadWrite(Files.writeString(dir.resolve("data"), "x"));
      client.put("/mnt/b", fd, "m");
      Libc.close(fd);
      Thread.sleep(1000);
      assertThat(holder.isAlive()).as("a connected client keeps it").isTrue();
    }
    holder.join(TimeUnit.SECONDS.toMillis(10));
    assertThat(holder.isAlive()).as("ended after the grace period").isFalse();
    assertThat(socket).doesNotExist();
    assertThatThrownBy(() -> FdHolderClient.connect(socket)).isInstanceOf(IOException.class);
  }

  @Test
  void unknownRequestsAndMissingKeysAreAnsweredNotHung() throws Exception {
    Path socket = dir.resolve("h.sock");
    Thread holder = startHolder(socket, Duration.ofSeconds(30));
    try (var client = FdHolderClient.connect(socket)) {
      assertThat(client.get("/nothing")).isEmpty();
      client.drop("/nothing");
      assertThatThrownBy(() -> client.put("a\nb", 0, "m"))
          .isInstanceOf(IllegalArgumentException.class);
      client.ping();
    } finally {
      holder.interrupt();
    }
  }
}
