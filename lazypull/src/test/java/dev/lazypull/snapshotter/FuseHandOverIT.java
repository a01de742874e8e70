package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.fuse.Attributes;
import dev.lazypull.fuse.DirectoryFiller;
import dev.lazypull.fuse.Entry;
import dev.lazypull.fuse.Errno;
import dev.lazypull.fuse.FuseException;
import dev.lazypull.fuse.FuseFilesystem;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.fuse.OpenFile;
import dev.lazypull.fuse.Request;
import dev.lazypull.fuse.TimedAttributes;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A FUSE connection handed from one server to the next through the fd holder, in one JVM and with
 * the kernel's real FUSE: stopping answers the request being served and reads no more, requests
 * made meanwhile wait in the kernel, and the resumed server answers them with the same node ids and
 * file handles.
 */
@Timeout(120)
class FuseHandOverIT {
  private static final int SIZE = 4 << 20;
  private static final byte[] NAME = "data".getBytes(StandardCharsets.UTF_8);

  @TempDir Path dir;

  /** Root (inode 1) holds one file, "data" (inode 2), whose byte at offset i is (i * 31) % 251. */
  private static final class PatternFilesystem implements FuseFilesystem {
    volatile CountDownLatch gate = new CountDownLatch(0);
    final CountDownLatch entered = new CountDownLatch(1);

    private static Attributes attributes(long ino) {
      boolean root = ino == ROOT_INODE;
      return new Attributes(
          ino,
          root ? 0 : SIZE,
          root ? 0 : SIZE / 512,
          0,
          0,
          0,
          0,
          0,
          0,
          root ? Attributes.S_IFDIR | 0755 : Attributes.S_IFREG | 0644,
          1,
          0,
          0,
          0,
          4096);
    }

    @Override
    public Entry lookup(Request request, long parent, byte[] name) throws FuseException {
      if (parent != ROOT_INODE || !Arrays.equals(name, NAME)) {
        throw new FuseException(Errno.ENOENT);
      }
      return Entry.of(attributes(2), Duration.ofDays(1));
    }

    @Override
    public TimedAttributes getattr(Request request, long ino) throws FuseException {
      if (ino != ROOT_INODE && ino != 2) {
        throw new FuseException(Errno.ENOENT);
      }
      return new TimedAttributes(attributes(ino), Duration.ofDays(1));
    }

    @Override
    public OpenFile open(Request request, long ino, int flags) throws FuseException {
      return OpenFile.cached(0);
    }

    @Override
    public int read(
        Request request, long ino, long handle, long fileOffset, int size, MemorySegment into)
        throws FuseException {
      if (ino != 2 || handle != 0) {
        throw new FuseException(Errno.EBADF);
      }
      entered.countDown();
      try {
        if (!gate.await(30, TimeUnit.SECONDS)) {
          throw new FuseException(Errno.EIO);
        }
      } catch (InterruptedException e) {
        throw new FuseException(Errno.EINTR);
      }
      int n = (int) Math.max(0, Math.min(size, SIZE - fileOffset));
      for (int i = 0; i < n; i++) {
        into.set(ValueLayout.JAVA_BYTE, i, expected(fileOffset + i));
      }
      return n;
    }

    @Override
    public void readdir(Request request, long ino, long handle, long offset, DirectoryFiller f) {
      if (offset == 0) {
        f.add(NAME, 2, Attributes.S_IFREG, 1);
      }
    }
  }

  private static byte expected(long offset) {
    return (byte) ((offset * 31) % 251);
  }

  private static void assertPattern(ByteBuffer read, long offset) {
    read.flip();
    assertThat(read.remaining()).isEqualTo(4096);
    for (int i = 0; i < read.remaining(); i++) {
      if (read.get(i) != expected(offset + i)) {
        throw new AssertionError("wrong byte at offset " + (offset + i));
      }
    }
  }

  private static CompletableFuture<ByteBuffer> readAt(FileChannel channel, long offset) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            while (buffer.hasRemaining() && channel.read(buffer, offset + buffer.position()) > 0) {
              // until full
            }
            return buffer;
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  @Test
  void stopAnswersWhatWasReadAndTheResumedServerAnswersWhatCameMeanwhile() throws Exception {
    Path socket = dir.resolve("h.sock");
    Thread holder =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    FdHolder.serveHere(socket, Duration.ofSeconds(1));
                  } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                  }
                });
    while (!Files.exists(FdHolder.pidFile(socket))) {
      Thread.sleep(10);
    }
    Path mountPoint = Files.createDirectories(dir.resolve("mnt"));
    var options = new MountOptions("handover", "handovertest", false, 2, false, 128 << 10, false);
    var fs = new PatternFilesystem();
    FuseMount first = FuseMount.mount(mountPoint, fs, options);
    FuseMount second = null;
    try (var client = FdHolderClient.connect(socket);
        var channel = FileChannel.open(mountPoint.resolve("data"))) {
      client.put("k", first.deviceFd(), "m");
      fs.gate = new CountDownLatch(1);
      var before = readAt(channel, 0);
      assertThat(fs.entered.await(10, TimeUnit.SECONDS)).as("a READ reached the server").isTrue();

      var stopped = CompletableFuture.supplyAsync(() -> stop(first));
      Thread.sleep(300);
      assertThat(stopped).as("stopping waits for the READ being served").isNotDone();
      fs.gate.countDown();
      assertThat(stopped.get(10, TimeUnit.SECONDS)).as("drained within the bound").isTrue();
      assertPattern(before.get(10, TimeUnit.SECONDS), 0);

      var meanwhile = readAt(channel, 3 << 20);
      Thread.sleep(500);
      assertThat(meanwhile).as("no server: the READ waits in the kernel").isNotDone();
      assertThat(MountTable.fuseMountAt(mountPoint)).as("still mounted").isPresent();

      var held = client.get("k").orElseThrow();
      second = FuseMount.resume(mountPoint, held.fd(), fs, options);
      assertPattern(meanwhile.get(10, TimeUnit.SECONDS), 3 << 20);
      try (var names = Files.list(mountPoint)) {
        assertThat(names.map(p -> p.getFileName().toString())).containsExactly("data");
      }
      assertThat(second.requestCounts()).containsKey("READ");
      client.drop("k");
    } finally {
      if (second != null) {
        second.close();
      } else {
        new ProcessBuilder("umount", "-l", mountPoint.toString()).start().waitFor();
      }
      holder.join(TimeUnit.SECONDS.toMillis(10));
    }
    assertThat(MountTable.fuseMountAt(mountPoint)).isEmpty();
  }

  @Test
  void aRequestStillBeingServedAtTheBoundIsStillAnsweredButStoppingReturns() throws Exception {
    Path mountPoint = Files.createDirectories(dir.resolve("mnt"));
    var options = new MountOptions("handover", "handovertest", false, 2, false, 128 << 10, false);
    var fs = new PatternFilesystem();
    FuseMount mount = FuseMount.mount(mountPoint, fs, options);
    var channel = FileChannel.open(mountPoint.resolve("data"));
    try {
      fs.gate = new CountDownLatch(1);
      var read = readAt(channel, 0);
      assertThat(fs.entered.await(10, TimeUnit.SECONDS)).as("a READ reached the server").isTrue();
      // Had it waited for the READ, the gate (opened only below) would have made it wait 30 s
      // for the callback's own timeout, which answers EIO: then it drained and returns true.
      assertThat(mount.stopServing(Duration.ofMillis(300))).as("not drained in time").isFalse();
      fs.gate.countDown();
      assertPattern(read.get(10, TimeUnit.SECONDS), 0);
    } finally {
      // Nobody serves the connection now, and the late worker's descriptors keep it alive (a
      // daemon would exit, which ends it): end it by force (MNT_FORCE aborts a FUSE connection),
      // so that closing the file (FLUSH) and the unmount need no server. umount(8) would stat
      // the mount first, and wait.
      dev.lazypull.fuse.linux.Libc.umount2(mountPoint.toString(), 1); // MNT_FORCE
      try {
        channel.close();
      } catch (IOException e) {
        // ENOTCONN from the FLUSH: the connection was just ended
      }
      dev.lazypull.fuse.linux.Libc.umount2(
          mountPoint.toString(), dev.lazypull.fuse.linux.Libc.MNT_DETACH);
    }
    assertThat(MountTable.fuseMountAt(mountPoint)).isEmpty();
  }

  private static boolean stop(FuseMount mount) {
    try {
      return mount.stopServing(Duration.ofSeconds(10));
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
