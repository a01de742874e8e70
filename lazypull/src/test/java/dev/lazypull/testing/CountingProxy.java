package dev.lazypull.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * A TCP pass-through on a free 127.0.0.1 port in front of a server (usually a {@link
 * LocalRegistry}) that counts the bytes each way and the connections. Bytes are counted before they
 * are passed on, so once a client has read N bytes, {@link #bytesFromServer()} is at least N.
 * Counts include HTTP headers.
 */
public final class CountingProxy implements AutoCloseable {

  private final ServerSocket listener;
  private final InetSocketAddress server;
  private final LongAdder bytesFromServer = new LongAdder();
  private final LongAdder bytesToServer = new LongAdder();
  private final LongAdder connections = new LongAdder();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final Thread acceptor;
  private volatile long serverBytesPerSecond;

  private CountingProxy(int serverPort) throws IOException {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    this.server = new InetSocketAddress(loopback, serverPort);
    this.listener = new ServerSocket(0, 50, loopback);
    this.acceptor = Thread.ofVirtual().name("counting-proxy-accept").start(this::acceptLoop);
  }

  /** Starts a proxy to {@code 127.0.0.1:serverPort}. */
  public static CountingProxy to(int serverPort) throws IOException {
    return new CountingProxy(serverPort);
  }

  /** {@code 127.0.0.1:<port>} to give clients instead of the server's address. */
  public String hostPort() {
    return "127.0.0.1:" + listener.getLocalPort();
  }

  /** A reference that goes through this proxy, e.g. {@code reference("app:1")}. */
  public dev.lazypull.registry.ImageReference reference(String repositoryAndTag) {
    return dev.lazypull.registry.ImageReference.parse(hostPort() + "/" + repositoryAndTag);
  }

  /** Bytes the server sent through the proxy (HTTP headers included). */
  public long bytesFromServer() {
    return bytesFromServer.sum();
  }

  public long bytesToServer() {
    return bytesToServer.sum();
  }

  public long connections() {
    return connections.sum();
  }

  /**
   * Passes the server's bytes on at about {@code bytesPerSecond} per connection (0: at full speed),
   * so that a test can act while fetches are in flight.
   */
  public void throttle(long bytesPerSecond) {
    this.serverBytesPerSecond = bytesPerSecond;
  }

  /** Zeroes the counters. */
  public void reset() {
    bytesFromServer.reset();
    bytesToServer.reset();
    connections.reset();
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket upstream = new Socket(server.getAddress(), server.getPort());
        sockets.add(client);
        sockets.add(upstream);
        connections.increment();
        Thread.ofVirtual().start(() -> pump(client, upstream, bytesToServer, false));
        Thread.ofVirtual().start(() -> pump(upstream, client, bytesFromServer, true));
      } catch (IOException e) {
        // Closed, or the server is gone: the client sees a reset connection.
      }
    }
  }

  private void pump(Socket from, Socket to, LongAdder counter, boolean fromServer) {
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = from.getInputStream()) {
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = in.read(buffer)) >= 0) {
        counter.add(n);
        long rate = serverBytesPerSecond;
        if (fromServer && rate > 0) {
          Thread.sleep(Math.max(1, n * 1000L / rate));
        }
        out.write(buffer, 0, n);
      }
      to.shutdownOutput();
    } catch (IOException | InterruptedException e) {
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Already closed.
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    sockets.forEach(CountingProxy::closeQuietly);
    acceptor.interrupt();
  }
}
