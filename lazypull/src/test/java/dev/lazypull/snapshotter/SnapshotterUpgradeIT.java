package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.snapshotter.api.ListSnapshotsRequest;
import dev.lazypull.snapshotter.api.PrepareSnapshotRequest;
import dev.lazypull.snapshotter.api.RemoveSnapshotRequest;
import dev.lazypull.snapshotter.api.SnapshotsGrpc;
import dev.lazypull.snapshotter.api.ViewSnapshotRequest;
import dev.lazypull.testing.Containerd;
import dev.lazypull.testing.LocalRegistry;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upgrade: {@code bin/lazypull snapshotter} gets SIGTERM and a new one starts while a reader
 * keeps files and a working directory open in a lazily mounted layer. The FUSE connection is kept
 * by the fd holder and served by the new daemon: same mount, right bytes for files first read after
 * the restart. Without the holder (kill -9 of it) a restart mounts the layer anew.
 */
class SnapshotterUpgradeIT {
  private static final Path LAUNCHER = Path.of("..", "bin", "lazypull").toAbsolutePath();

  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  @TempDir Path dir;

  private final List<Process> started = new ArrayList<>();

  private Process start() throws Exception {
    var builder =
        new ProcessBuilder(
            LAUNCHER.toString(),
            "snapshotter",
            "--root",
            dir.resolve("root").toString(),
            "--address",
            dir.resolve("s.sock").toString());
    builder.environment().put("LAZYPULL_LOG_LEVEL", "info");
    Process daemon =
        builder
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("daemon.log").toFile()))
            .start();
    started.add(daemon);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!Files.exists(dir.resolve("s.sock")) || !answers()) {
      assertThat(daemon.isAlive()).as(Files.readString(dir.resolve("daemon.log"))).isTrue();
      assertThat(System.nanoTime()).as("socket within 120 s").isLessThan(deadline);
      Thread.sleep(20);
    }
    return daemon;
  }

  private boolean answers() {
    try {
      call(s -> s.list(ListSnapshotsRequest.getDefaultInstance()).hasNext());
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private <T> T call(Function<SnapshotsGrpc.SnapshotsBlockingStub, T> call) throws Exception {
    var loop = new EpollEventLoopGroup(1);
    var channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(dir.resolve("s.sock").toString()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(loop)
            .usePlaintext()
            .build();
    try {
      return call.apply(
          SnapshotsGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  private long stop(Process daemon) throws Exception {
    long begin = System.nanoTime();
    daemon.destroy(); // SIGTERM to this PID
    assertThat(daemon.waitFor(60, TimeUnit.SECONDS)).as("ended after SIGTERM").isTrue();
    return (System.nanoTime() - begin) / 1_000_000;
  }

  private long holderPid() throws IOException {
    return Long.parseLong(Files.readString(dir.resolve("root/fd-holder.pid")).strip());
  }

  private static long mountId(Path mountPoint) throws IOException {
    return MountTable.fuseMountAt(mountPoint).orElseThrow().mountId();
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (Process process : started) {
      if (process.isAlive()) {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
    // The holder is started by the daemon: end it by the pid it recorded, if it still runs.
    Path pidFile = dir.resolve("root/fd-holder.pid");
    if (Files.exists(pidFile)) {
      ProcessHandle.of(holderPid()).ifPresent(ProcessHandle::destroyForcibly);
    }
    Thread.sleep(200);
    for (String mountPoint : Containerd.mountsUnder(dir)) {
      new ProcessBuilder("umount", "-l", mountPoint).start().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void sigtermAndRestart_keepsTheMountAndItsReaders_andWithoutTheHolderMountsAnew()
      throws Exception {
    BusyboxImage.push(registry, "upgrade:plain", "upgrade:soci");
    var layer =
        RegistryClient.create(RegistryOptions.defaults())
            .resolveManifest(registry.reference("upgrade:soci"))
            .imageManifest()
            .layers()
            .getFirst();
    var prepare =
        PrepareSnapshotRequest.newBuilder()
            .setKey("ns/1/extract")
            .putLabels(SnapshotLabels.TARGET_REF, "c1")
            .putLabels(SnapshotLabels.IMAGE_REF, registry.reference("upgrade:soci").toString())
            .putLabels(SnapshotLabels.LAYER_DIGEST, layer.digest().toString())
            .build();
    byte[] busybox = Files.readAllBytes(BusyboxImage.BUSYBOX);

    Process first = start();
    assertThatThrownBy(() -> call(s -> s.prepare(prepare)))
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("ALREADY_EXISTS");
    var view =
        call(s -> s.view(ViewSnapshotRequest.newBuilder().setKey("v").setParent("c1").build()));
    Path mount = Path.of(view.getMounts(0).getSource());
    assertThat(Files.readString(mount.resolve("etc/greeting"))).startsWith("hello from the bottom");
    long mountIdBefore = mountId(mount);

    // Readers from before the restart: this JVM with busybox open (not a byte read yet), and a
    // shell whose working directory is the layer's bin/, waiting to read ../etc/old.
    var busyboxChannel = FileChannel.open(mount.resolve("bin/busybox"), StandardOpenOption.READ);
    Path fifo = dir.resolve("go");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    Path shellOut = dir.resolve("shell.out");
    Process shell =
        new ProcessBuilder(
                "sh",
                "-c",
                "cd \"$1/bin\" && read x < \"$2\" && cat ../etc/old > \"$3\"",
                "sh",
                mount.toString(),
                fifo.toString(),
                shellOut.toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("shell.log").toFile()))
            .start();
    started.add(shell);

    // A prober looks up a new name every 10 ms: each lookup must go to a server, so its slowest
    // answer is how long a reader waited across the restart.
    var probing = new AtomicBoolean(true);
    var slowestMillis = new AtomicLong();
    var probeFailures = new AtomicLong();
    var prober =
        CompletableFuture.runAsync(
            () -> {
              for (int i = 0; probing.get(); i++) {
                long begin = System.nanoTime();
                if (Files.exists(mount.resolve("bin/probe-" + i))) {
                  probeFailures.incrementAndGet();
                }
                slowestMillis.accumulateAndGet((System.nanoTime() - begin) / 1_000_000, Math::max);
                try {
                  Thread.sleep(10);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });

    long holder = holderPid();
    long stopMillis = stop(first);
    assertThat(MountTable.fuseMountAt(mount)).as("still mounted after SIGTERM").isPresent();
    long startBegin = System.nanoTime();
    Process second = start();
    long startMillis = (System.nanoTime() - startBegin) / 1_000_000;
    assertThat(holderPid()).as("the same holder").isEqualTo(holder);

    // Bytes never read before the restart, through a descriptor opened before it.
    ByteBuffer all = ByteBuffer.allocate(busybox.length + 1);
    while (busyboxChannel.read(all) > 0) {
      // read to the end
    }
    assertThat(all.flip().remaining()).isEqualTo(busybox.length);
    assertThat(all.array()).startsWith(busybox);
    Files.writeString(fifo, "go\n");
    assertThat(shell.waitFor(30, TimeUnit.SECONDS)).as("the shell ended").isTrue();
    assertThat(shell.exitValue()).as(Files.readString(dir.resolve("shell.log"))).isZero();
    assertThat(Files.readString(shellOut)).isEqualTo("old\n");
    probing.set(false);
    prober.get(30, TimeUnit.SECONDS);
    assertThat(probeFailures.get()).isZero();
    assertThat(mountId(mount)).as("the same mount, not mounted again").isEqualTo(mountIdBefore);
    assertThat(Files.readString(dir.resolve("daemon.log")))
        .contains("served again (its FUSE connection was kept across the restart)");
    Files.readAllLines(dir.resolve("daemon.log")).stream()
        .filter(line -> line.contains(" at " + mount) || line.contains("fd holder"))
        .forEach(line -> System.out.println("daemon log: " + line));
    System.out.printf(
        "upgrade: SIGTERM to exit %d ms, new daemon answering %d ms after its start, slowest"
            + " lookup across the restart %d ms%n",
        stopMillis, startMillis, slowestMillis.get());

    // Now without a holder: the daemon stops, the holder is killed, the connection ends; the
    // reader gets an error (not a hang) and the next daemon mounts the layer anew.
    stop(second);
    ProcessHandle.of(holder).orElseThrow().destroyForcibly();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (ProcessHandle.of(holder).isPresent()) {
      assertThat(System.nanoTime()).as("holder gone within 30 s").isLessThan(deadline);
      Thread.sleep(20);
    }
    var deadLookup =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                Files.readAttributes(
                    mount.resolve("bin/probe-after-the-end"),
                    java.nio.file.attribute.BasicFileAttributes.class);
                return "found";
              } catch (IOException e) {
                return e.toString();
              }
            });
    assertThat(deadLookup.get(30, TimeUnit.SECONDS))
        .as("a lookup on the ended connection fails at once")
        .contains("Transport endpoint is not connected");
    busyboxChannel.close();
    long logBefore = Files.size(dir.resolve("daemon.log"));
    Process third = start();
    assertThat(holderPid()).as("a new holder").isNotEqualTo(holder);
    assertThat(Files.readString(mount.resolve("etc/greeting"))).startsWith("hello from the bottom");
    // Mount ids are reused once free, so the third daemon's log tells how it got its mount.
    String thirdLog = Files.readString(dir.resolve("daemon.log")).substring((int) logBefore);
    assertThat(thirdLog)
        .contains("detached a FUSE mount at " + mount + " that no server of this daemon serves")
        .contains("mounted at " + mount)
        .doesNotContain("served again");
    assertThat(Files.readAllBytes(mount.resolve("bin/busybox"))).isEqualTo(busybox);
    call(s -> s.remove(RemoveSnapshotRequest.newBuilder().setKey("v").build()));
    call(s -> s.remove(RemoveSnapshotRequest.newBuilder().setKey("c1").build()));
    assertThat(Containerd.mountsUnder(dir)).isEmpty();
    stop(third);
  }

  @Test
  void aContainerRunningThroughContainerdKeepsReadingItsLazyLayersAcrossTheRestart()
      throws Exception {
    BusyboxImage.push(registry, "running:plain", "running:soci");
    String image = registry.reference("running:soci").toString();
    Process first = start();
    Process second = null;
    try (var containerd = Containerd.start(dir.resolve("containerd"), dir.resolve("s.sock"))) {
      var out = new java.io.StringWriter();
      var cli = dev.lazypull.cli.Main.newCommandLine();
      cli.setOut(new java.io.PrintWriter(out));
      assertThat(
              cli.execute(
                  "pull",
                  "--address",
                  containerd.socket().toString(),
                  "-n",
                  Containerd.NAMESPACE,
                  image))
          .as(out.toString())
          .isZero();
      containerd.ctr(
          "run", "-d", "--snapshotter", "lazypull", image, "kept", "/bin/sleep", "1000000");
      try {
        assertThat(
                containerd.ctr(
                    "task", "exec", "--exec-id", "before", "kept", "/bin/cat", "/etc/greeting"))
            .isEqualTo(BusyboxImage.TOP_GREETING);

        stop(first);
        second = start();

        // Every byte of busybox through the container's overlay over the kept FUSE mount. The
        // pages the first exec brought into the page cache are dropped (all but those the
        // sleeping container maps), so the new daemon serves the rest.
        int dropped = 0;
        for (var entry : MountTable.read()) {
          Path busybox = Path.of(entry.mountPoint(), "bin", "busybox");
          if (entry.mountPoint().startsWith(dir.toString())
              && entry.fsType().equals("fuse.lazypull")
              && Files.exists(busybox)) {
            int fd =
                dev.lazypull.fuse.linux.Libc.open(
                    busybox.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    dev.lazypull.fuse.linux.Libc.O_RDONLY);
            assertThat(fd).as("open " + busybox).isNotNegative();
            assertThat(
                    dev.lazypull.fuse.linux.Libc.fadvise(
                        fd, 0, 0, dev.lazypull.fuse.linux.Libc.POSIX_FADV_DONTNEED))
                .isZero();
            dev.lazypull.fuse.linux.Libc.close(fd);
            dropped++;
          }
        }
        assertThat(dropped).as("the busybox layer's FUSE mount").isEqualTo(1);
        String sum =
            containerd.ctr(
                "task",
                "exec",
                "--exec-id",
                "after",
                "kept",
                "/bin/busybox",
                "sha256sum",
                "/bin/busybox");
        String expected =
            java.util.HexFormat.of()
                .formatHex(
                    java.security.MessageDigest.getInstance("SHA-256")
                        .digest(Files.readAllBytes(BusyboxImage.BUSYBOX)));
        assertThat(sum).startsWith(expected);
        assertThat(Files.readString(dir.resolve("daemon.log")))
            .contains("served again (its FUSE connection was kept across the restart)");
      } finally {
        containerd.tryCtr("task", "kill", "-s", "SIGKILL", "kept");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (containerd.tryCtr("task", "delete", "kept").exitCode() != 0
            && System.nanoTime() < deadline) {
          Thread.sleep(200);
        }
        // containerd may need a moment to dial the new daemon again. Deleting the container and
        // the image changes only containerd's records; its garbage collection then removes the
        // snapshots from the snapshotter, once, and logs "snapshot garbage collection failed" if
        // it cannot dial it. So first wait until a call that reaches the daemon (usage) gets
        // through.
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (containerd.tryCtr("snapshots", "--snapshotter", "lazypull", "usage").exitCode() != 0
            && System.nanoTime() < deadline) {
          Thread.sleep(500);
        }
        containerd.tryCtr("container", "delete", "kept");
        while (containerd.tryCtr("images", "rm", "--sync", image).exitCode() != 0
            && System.nanoTime() < deadline) {
          Thread.sleep(500);
        }
      }
    }
    stop(second != null ? second : first);
    assertThat(Containerd.mountsUnder(dir)).as("the image's snapshots are removed").isEmpty();
  }
}
