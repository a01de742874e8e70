import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP forwarder on 127.0.0.1 that holds every chunk for half the round-trip time in each
 * direction, so a client sees the RTT of a distant registry. It adds delay only: the rate
 * limit is the tc qdisc on the veth pair behind it. This kernel has no netem, hence this.
 *
 * <p>Usage: java DelayProxy.java TARGET_HOST TARGET_PORT RTT_MS [REQUEST_LOG]. Prints
 * "listening PORT" on stdout once it accepts connections (on a free loopback port), then runs
 * until killed. With REQUEST_LOG, each HTTP request line it forwards is logged there as "EPOCH
 * METHOD PATH RANGE" (EPOCH in seconds with microseconds, RANGE "-" when absent), for the
 * benchmark's per-phase breakdown. Requests are found at the start of a chunk from the client,
 * which is where a client's small request lands in practice.
 */
final class DelayProxy {
  private static final int CHUNK_BYTES = 64 * 1024;

  /** A chunk of bytes and the time it may leave; an empty chunk means end of stream. */
  private record Chunk(byte[] bytes, long dueNanos) {}

  private static volatile PrintStream requestLog; // null without a log file

  public static void main(String[] args) throws IOException {
    if (args.length != 3 && args.length != 4) {
      System.err.println("usage: java DelayProxy.java TARGET_HOST TARGET_PORT RTT_MS [LOG]");
      System.exit(2);
    }
    if (args.length == 4) {
      requestLog = new PrintStream(new FileOutputStream(args[3], true), true, UTF_8);
    }
    var target = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
    long oneWayNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[2])) / 2;
    try (var server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress())) {
      System.out.println("listening " + server.getLocalPort());
      System.out.flush();
      while (true) {
        Socket client = server.accept();
        Thread.ofVirtual().start(() -> connect(client, target, oneWayNanos));
      }
    }
  }

  private static void connect(Socket client, InetSocketAddress target, long oneWayNanos) {
    try {
      var upstream = new Socket();
      upstream.connect(target, 10_000);
      client.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
      var openDirections = new AtomicInteger(2);
      startPump(client, upstream, oneWayNanos, openDirections, true);
      startPump(upstream, client, oneWayNanos, openDirections, false);
    } catch (IOException e) {
      System.err.println("delay proxy: cannot reach " + target + ": " + e.getMessage());
      closeQuietly(client);
    }
  }

  /** Copies from → to with a reader and a writer thread; the queue between them is the delay. */
  private static void startPump(
      Socket from,
      Socket to,
      long oneWayNanos,
      AtomicInteger openDirections,
      boolean fromClient) {
    BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
    Thread.ofVirtual().start(() -> {
      byte[] buffer = new byte[CHUNK_BYTES];
      try {
        InputStream in = from.getInputStream(); // not closed here: that would close the socket
        int n;
        while ((n = in.read(buffer)) > 0) {
          if (fromClient && requestLog != null) {
            logRequest(new String(buffer, 0, Math.min(n, 4096), ISO_8859_1));
          }
          queue.add(new Chunk(Arrays.copyOf(buffer, n), System.nanoTime() + oneWayNanos));
        }
      } catch (IOException e) {
        // the peer went away: end the stream below
      }
      queue.add(new Chunk(new byte[0], System.nanoTime() + oneWayNanos));
    });
    Thread.ofVirtual().start(() -> {
      try {
        OutputStream out = to.getOutputStream();
        while (true) {
          Chunk chunk = queue.take();
          long wait = chunk.dueNanos() - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          if (chunk.bytes().length == 0) {
            to.shutdownOutput();
            if (openDirections.decrementAndGet() == 0) { // both halves done: free the sockets
              closeQuietly(from);
              closeQuietly(to);
            }
            break;
          }
          out.write(chunk.bytes());
        }
      } catch (IOException | InterruptedException e) {
        closeQuietly(from);
        closeQuietly(to);
      }
    });
  }

  /** Logs the request line and Range header at the start of a chunk, if it holds a request. */
  private static void logRequest(String chunk) {
    String[] lines = chunk.split("\r\n");
    String[] requestLine = lines[0].split(" ");
    if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/")) {
      return;
    }
    String range = "-";
    for (String line : lines) {
      if (line.regionMatches(true, 0, "Range:", 0, 6)) {
        range = line.substring(6).strip().replace(' ', '_');
      }
    }
    Instant now = Instant.now();
    String epoch = now.getEpochSecond() + String.format(".%06d", now.getNano() / 1000);
    PrintStream log = requestLog;
    if (log != null) {
      synchronized (log) {
        log.println(epoch + " " + requestLine[0] + " " + requestLine[1] + " " + range);
      }
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }
}
