package dev.lazypull.snapshotter;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Serves a {@link Snapshotter} as containerd's Snapshots gRPC service on a unix socket. */
public final class SnapshotterServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SnapshotterServer.class);
  private static final long SHUTDOWN_GRACE_SECONDS = 10;

  private final Server server;
  private final EpollEventLoopGroup eventLoops;
  private final Path socket;

  private SnapshotterServer(Server server, EpollEventLoopGroup eventLoops, Path socket) {
    this.server = server;
    this.eventLoops = eventLoops;
    this.socket = socket;
  }

  /**
   * Starts serving on {@code socket}; a stale socket file (left by a killed daemon) is replaced.
   */
  public static SnapshotterServer start(Snapshotter snapshotter, Path socket) throws IOException {
    return start(snapshotter, socket, null);
  }

  /** Like {@link #start(Snapshotter, Path)}, counting calls in {@code metrics}. */
  public static SnapshotterServer start(
      Snapshotter snapshotter, Path socket, @Nullable SnapshotterMetrics metrics)
      throws IOException {
    Files.createDirectories(socket.toAbsolutePath().getParent());
    Files.deleteIfExists(socket);
    var eventLoops = new EpollEventLoopGroup(2);
    Server server =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(eventLoops)
            .workerEventLoopGroup(eventLoops)
            .addService(new SnapshotsService(snapshotter, metrics))
            .build();
    try {
      server.start();
    } catch (IOException e) {
      eventLoops.shutdownGracefully();
      throw new IOException("listen on snapshotter socket " + socket + ": " + e.getMessage(), e);
    }
    log.info("snapshotter serving on {}", socket);
    return new SnapshotterServer(server, eventLoops, socket);
  }

  public Path socket() {
    return socket;
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() throws IOException {
    server.shutdown();
    try {
      if (!server.awaitTermination(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    eventLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    Files.deleteIfExists(socket);
  }
}
