package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.snapshotter.api.CommitSnapshotRequest;
import dev.lazypull.snapshotter.api.Kind;
import dev.lazypull.snapshotter.api.ListSnapshotsRequest;
import dev.lazypull.snapshotter.api.PrepareSnapshotRequest;
import dev.lazypull.snapshotter.api.RemoveSnapshotRequest;
import dev.lazypull.snapshotter.api.SnapshotsGrpc;
import dev.lazypull.snapshotter.api.StatSnapshotRequest;
import dev.lazypull.snapshotter.api.ViewSnapshotRequest;
import dev.lazypull.testing.Containerd;
import dev.lazypull.testing.LocalRegistry;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/lazypull snapshotter} as a process: serves, stops on SIGTERM, keeps its state, and
 * after a kill -9 serves its remote layers again on restart (the fd holder kept their FUSE
 * connections; see SnapshotterUpgradeIT for the case without it).
 */
class SnapshotterDaemonIT {
  private static final Path LAUNCHER = Path.of("..", "bin", "lazypull").toAbsolutePath();

  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  @TempDir Path dir;

  private Process start() throws Exception {
    return start(false);
  }

  private Process start(boolean remote) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                LAUNCHER.toString(),
                "snapshotter",
                "--root",
                dir.resolve("root").toString(),
                "--address",
                dir.resolve("s.sock").toString()));
    if (!remote) {
      command.add("--no-remote");
    }
    var builder = new ProcessBuilder(command);
    if (remote) {
      // The daemon as the systemd unit runs it: structured JSON log lines.
      builder.environment().put("LAZYPULL_LOG_LEVEL", "info");
      builder.environment().put("LAZYPULL_LOG_FORMAT", "JSON");
    }
    Process daemon =
        builder
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("daemon.log").toFile()))
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!Files.exists(dir.resolve("s.sock")) || !answers()) {
      assertThat(daemon.isAlive()).as(Files.readString(dir.resolve("daemon.log"))).isTrue();
      assertThat(System.nanoTime()).as("socket within 120 s").isLessThan(deadline);
      Thread.sleep(100);
    }
    return daemon;
  }

  private boolean answers() {
    try {
      call(s -> s.list(ListSnapshotsRequest.getDefaultInstance()).hasNext());
      return true;
    } catch (Exception e) {
      return false; // a socket file left by a killed daemon, or not listening yet
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

  private void stop(Process daemon) throws Exception {
    daemon.destroy(); // SIGTERM to this PID
    assertThat(daemon.waitFor(30, TimeUnit.SECONDS)).as("ended after SIGTERM").isTrue();
  }

  @Test
  void sigterm_removesTheSocketAndARestartKeepsTheSnapshots() throws Exception {
    Process first = start();
    try {
      call(s -> s.prepare(PrepareSnapshotRequest.newBuilder().setKey("a").build()));
      call(s -> s.commit(CommitSnapshotRequest.newBuilder().setKey("a").setName("layer").build()));
    } finally {
      stop(first);
    }
    assertThat(dir.resolve("s.sock")).doesNotExist();

    Process second = start();
    try {
      var info = call(s -> s.stat(StatSnapshotRequest.newBuilder().setKey("layer").build()));
      assertThat(info.getInfo().getKind()).isEqualTo(Kind.COMMITTED);
    } finally {
      stop(second);
    }
  }

  @Test
  void killDashNine_restartMountsRemoteLayersAgain() throws Exception {
    BusyboxImage.push(registry, "daemon:plain", "daemon:soci");
    var layer =
        RegistryClient.create(RegistryOptions.defaults())
            .resolveManifest(registry.reference("daemon:soci"))
            .imageManifest()
            .layers()
            .getFirst();
    var prepare =
        PrepareSnapshotRequest.newBuilder()
            .setKey("ns/1/extract")
            .putLabels(SnapshotLabels.TARGET_REF, "c1")
            .putLabels(SnapshotLabels.IMAGE_REF, registry.reference("daemon:soci").toString())
            .putLabels(SnapshotLabels.LAYER_DIGEST, layer.digest().toString())
            .build();
    Path greeting;
    Process first = start(true);
    try {
      assertThatThrownBy(() -> call(s -> s.prepare(prepare)))
          .isInstanceOf(StatusRuntimeException.class)
          .hasMessageContaining("ALREADY_EXISTS");
      var view =
          call(s -> s.view(ViewSnapshotRequest.newBuilder().setKey("v").setParent("c1").build()));
      greeting = Path.of(view.getMounts(0).getSource()).resolve("etc/greeting");
      assertThat(Files.readString(greeting)).startsWith("hello from the bottom");
      assertThat(Files.readAllLines(dir.resolve("daemon.log")))
          .as("a JSON log line with the mounted layer as a structured field")
          .anySatisfy(
              line ->
                  assertThat(line)
                      .startsWith("{")
                      .contains("\"kvpList\"")
                      .contains("\"layer\":\"" + layer.digest()));
    } finally {
      first.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no clean-up at all
    }
    assertThat(Containerd.mountsUnder(dir)).as("the FUSE mount the holder keeps").isNotEmpty();

    Process second = start(true);
    try {
      assertThat(Files.readString(greeting)).startsWith("hello from the bottom");
      call(s -> s.remove(RemoveSnapshotRequest.newBuilder().setKey("v").build()));
      call(s -> s.remove(RemoveSnapshotRequest.newBuilder().setKey("c1").build()));
      assertThat(Containerd.mountsUnder(dir)).isEmpty();
    } finally {
      stop(second);
      // The fd holder was started by the first daemon: end it by the pid it recorded.
      Path holderPid = dir.resolve("root/fd-holder.pid");
      if (Files.exists(holderPid)) {
        ProcessHandle.of(Long.parseLong(Files.readString(holderPid).strip()))
            .ifPresent(ProcessHandle::destroyForcibly);
      }
      for (String mountPoint : Containerd.mountsUnder(dir)) {
        new ProcessBuilder("umount", "-l", mountPoint).start().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
