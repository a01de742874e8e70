package dev.lazypull.containerd;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A gRPC channel to containerd's unix socket. containerd scopes every call by the {@code
 * containerd-namespace} header and keeps what a call makes alive by the {@code containerd-lease}
 * header; {@link #channel(String, String)} adds both.
 */
public final class ContainerdConnection implements AutoCloseable {
  private static final Metadata.Key<String> NAMESPACE =
      Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> LEASE =
      Metadata.Key.of("containerd-lease", Metadata.ASCII_STRING_MARSHALLER);

  private final EpollEventLoopGroup eventLoop;
  private final ManagedChannel channel;

  private ContainerdConnection(EpollEventLoopGroup eventLoop, ManagedChannel channel) {
    this.eventLoop = eventLoop;
    this.channel = channel;
  }

  public static ContainerdConnection open(Path socket) {
    var eventLoop = new EpollEventLoopGroup(1);
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(eventLoop)
            .usePlaintext()
            .maxInboundMessageSize(16 << 20)
            .build();
    return new ContainerdConnection(eventLoop, channel);
  }

  /** The channel with the namespace header and, unless null, the lease header on every call. */
  public Channel channel(String namespace, @Nullable String lease) {
    return io.grpc.ClientInterceptors.intercept(channel, new Headers(namespace, lease));
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    eventLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  private record Headers(String namespace, @Nullable String lease) implements ClientInterceptor {
    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
        MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          headers.put(NAMESPACE, namespace);
          if (lease != null) {
            headers.put(LEASE, lease);
          }
          super.start(listener, headers);
        }
      };
    }
  }
}
