package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.snapshotter.api.CommitSnapshotRequest;
import dev.lazypull.snapshotter.api.Kind;
import dev.lazypull.snapshotter.api.ListSnapshotsRequest;
import dev.lazypull.snapshotter.api.PrepareSnapshotRequest;
import dev.lazypull.snapshotter.api.RemoveSnapshotRequest;
import dev.lazypull.snapshotter.api.SnapshotsGrpc;
import dev.lazypull.snapshotter.api.StatSnapshotRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gRPC service over a real unix socket, as containerd's proxy client reaches it. */
class SnapshotsServiceTest {
  @TempDir Path dir;
  private Snapshotter snapshotter;
  private SnapshotterServer server;
  private EpollEventLoopGroup clientLoop;
  private ManagedChannel channel;
  private SnapshotsGrpc.SnapshotsBlockingStub client;

  @BeforeEach
  void start() throws Exception {
    snapshotter = Snapshotter.open(dir.resolve("root"));
    server = SnapshotterServer.start(snapshotter, dir.resolve("s.sock"));
    clientLoop = new EpollEventLoopGroup(1);
    channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(dir.resolve("s.sock").toString()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(clientLoop)
            .usePlaintext()
            .build();
    client = SnapshotsGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    server.close();
    snapshotter.close();
  }

  private static void assertStatus(Status.Code code, Runnable call) {
    assertThatThrownBy(call::run)
        .isInstanceOf(StatusRuntimeException.class)
        .extracting(e -> ((StatusRuntimeException) e).getStatus().getCode())
        .isEqualTo(code);
  }

  @Test
  void prepareCommitStatList_roundTripOverTheSocket() {
    var mounts =
        client.prepare(
            PrepareSnapshotRequest.newBuilder()
                .setKey("default/1/extract")
                .putLabels("containerd.io/snapshot.ref", "sha256:abc")
                .build());
    assertThat(mounts.getMountsList())
        .singleElement()
        .satisfies(m -> assertThat(m.getType()).isEqualTo("bind"));
    client.commit(
        CommitSnapshotRequest.newBuilder()
            .setKey("default/1/extract")
            .setName("default/2/sha256:abc")
            .build());

    var info =
        client
            .stat(StatSnapshotRequest.newBuilder().setKey("default/2/sha256:abc").build())
            .getInfo();
    assertThat(info.getKind()).isEqualTo(Kind.COMMITTED);
    assertThat(info.getLabelsMap()).containsEntry("containerd.io/snapshot.ref", "sha256:abc");
    assertThat(info.getCreatedAt().getSeconds()).isPositive();

    List<String> names = new ArrayList<>();
    client
        .list(
            ListSnapshotsRequest.newBuilder()
                .addFilters("labels.\"containerd.io/snapshot.ref\"==sha256:abc")
                .build())
        .forEachRemaining(r -> r.getInfoList().forEach(i -> names.add(i.getName())));
    assertThat(names).containsExactly("default/2/sha256:abc");
  }

  @Test
  void refusals_becomeContainerdsGrpcStatuses() {
    var prepare = PrepareSnapshotRequest.newBuilder().setKey("a").build();
    client.prepare(prepare);
    assertStatus(Status.Code.ALREADY_EXISTS, () -> client.prepare(prepare));
    assertStatus(
        Status.Code.NOT_FOUND,
        () ->
            client.prepare(PrepareSnapshotRequest.newBuilder().setKey("b").setParent("x").build()));
    assertStatus(
        Status.Code.NOT_FOUND,
        () -> client.stat(StatSnapshotRequest.newBuilder().setKey("x").build()));
    client.commit(CommitSnapshotRequest.newBuilder().setKey("a").setName("c").build());
    assertStatus(
        Status.Code.FAILED_PRECONDITION,
        () -> client.commit(CommitSnapshotRequest.newBuilder().setKey("c").setName("d").build()));
    assertStatus(
        Status.Code.NOT_FOUND,
        () -> client.remove(RemoveSnapshotRequest.newBuilder().setKey("a").build()));
    assertStatus(
        Status.Code.INVALID_ARGUMENT,
        () ->
            client
                .list(ListSnapshotsRequest.newBuilder().addFilters("name=").build())
                .forEachRemaining(r -> {}));
  }
}
