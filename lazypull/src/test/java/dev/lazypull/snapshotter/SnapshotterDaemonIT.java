package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.snapshotter.api.CommitSnapshotRequest;
import dev.lazypull.snapshotter.api.Kind;
import dev.lazypull.snapshotter.api.PrepareSnapshotRequest;
import dev.lazypull.snapshotter.api.SnapshotsGrpc;
import dev.lazypull.snapshotter.api.StatSnapshotRequest;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/lazypull snapshotter} as a process: serves, stops on SIGTERM, keeps its state. */
class SnapshotterDaemonIT {
  private static final Path LAUNCHER = Path.of("..", "bin", "lazypull").toAbsolutePath();

  @TempDir Path dir;

  private Process start() throws Exception {
    Process daemon =
        new ProcessBuilder(
                LAUNCHER.toString(),
                "snapshotter",
                "--no-remote",
                "--root",
                dir.resolve("root").toString(),
                "--address",
                dir.resolve("s.sock").toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("daemon.log").toFile()))
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!Files.exists(dir.resolve("s.sock"))) {
      assertThat(daemon.isAlive()).as(Files.readString(dir.resolve("daemon.log"))).isTrue();
      assertThat(System.nanoTime()).as("socket within 120 s").isLessThan(deadline);
      Thread.sleep(100);
    }
    return daemon;
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
}
