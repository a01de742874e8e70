package dev.lazypull.fuse.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.fuse.Errno;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.fuse.linux.Libc;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mounting, unmounting, detaching, and recovering from a server that was killed. */
class FuseMountIT {
  @TempDir static Path work;
  static Path source;

  @BeforeAll
  static void buildSource() throws Exception {
    FuseHost.require();
    source = Files.createDirectory(work.resolve("source"));
    Files.writeString(source.resolve("a.txt"), "hello\n");
  }

  @Test
  void close_unmountsAndStopsWorkers() throws Exception {
    var mountPoint = Files.createDirectory(work.resolve("close"));
    var mount = FuseMount.mount(mountPoint, mirror(), options());
    assertThat(FuseHost.mountLine(mountPoint)).contains("fuse.mirror");
    assertThat(Files.readString(mountPoint.resolve("a.txt"))).isEqualTo("hello\n");

    mount.close();

    assertThat(FuseHost.mountLine(mountPoint)).isNull();
    assertThat(mount.serving()).isFalse();
  }

  @Test
  void detach_withOpenFile_servesUntilLastClose() throws Exception {
    var mountPoint = Files.createDirectory(work.resolve("detach"));
    var mount = FuseMount.mount(mountPoint, mirror(), options());
    var open = FileChannel.open(mountPoint.resolve("a.txt"));

    mount.detach();

    assertThat(FuseHost.mountLine(mountPoint)).isNull();
    var buffer = ByteBuffer.allocate(16);
    assertThat(open.read(buffer, 0)).isEqualTo(6);
    assertThat(mount.serving()).isTrue();
    open.close();
    var stopped = CompletableFuture.runAsync(() -> awaitQuietly(mount));
    stopped.get(10, TimeUnit.SECONDS);
    assertThat(mount.serving()).isFalse();
  }

  @Test
  void mount_afterServerKilled_detachesDeadMountFirst() throws Exception {
    var mountPoint = Files.createDirectory(work.resolve("killed"));
    var server = startServerProcess(mountPoint);
    try {
      assertThat(Files.readString(mountPoint.resolve("a.txt"))).isEqualTo("hello\n");
      FuseHost.bash(work, "kill -9 " + server.pid());
      assertThat(server.waitFor(20, TimeUnit.SECONDS)).isTrue();
    } finally {
      server.destroyForcibly();
    }
    assertThat(Libc.statfsErrno(mountPoint.toString())).isEqualTo(-Errno.ENOTCONN);

    try (var mount = FuseMount.mount(mountPoint, mirror(), options())) {
      assertThat(Files.readString(mountPoint.resolve("a.txt"))).isEqualTo("hello\n");
      assertThat(
              Files.readAllLines(Path.of("/proc/mounts")).stream()
                  .filter(line -> line.contains(" " + mountPoint + " ")))
          .hasSize(1);
      assertThat(mount.serving()).isTrue();
    }
  }

  /** Serves the mirror from another JVM, as a separate server process would. */
  private static Process startServerProcess(Path mountPoint) throws Exception {
    var java = ProcessHandle.current().info().command().orElseThrow();
    var server =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                MirrorMain.class.getName(),
                source.toString(),
                mountPoint.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    var stdout = new BufferedReader(new InputStreamReader(server.getInputStream()));
    var ready = CompletableFuture.supplyAsync(() -> readLine(stdout));
    assertThat(ready.get(30, TimeUnit.SECONDS)).startsWith("mounted");
    return server;
  }

  private static String readLine(BufferedReader reader) {
    try {
      var line = reader.readLine();
      return line == null ? "(server exited)" : line;
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }

  private static void awaitQuietly(FuseMount mount) {
    try {
      mount.awaitEnd();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static MirrorFilesystem mirror() throws Exception {
    return new MirrorFilesystem(SourceTree.bytes(source), false);
  }

  private static MountOptions options() {
    return MountOptions.defaults("lazypull-test", "mirror").withWorkers(2);
  }
}
