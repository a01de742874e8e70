package dev.lazypull.snapshotter;

import dev.lazypull.fuse.linux.Libc;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon's connection to the {@link FdHolder}. One connection for the daemon's lifetime: the
 * holder counts a connected daemon as someone who will serve what it holds. Calls are serialised;
 * every reply is awaited at most {@link #REPLY_TIMEOUT}.
 */
public final class FdHolderClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FdHolderClient.class);
  static final Duration REPLY_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  /** LIST replies name every held mount point: room for thousands. */
  private static final int MAX_REPLY = 1 << 20;

  private final Path socketPath;
  private int socket;

  /** A descriptor the holder handed back, and what was stored with it. */
  public record HeldFd(int fd, String meta) {}

  private FdHolderClient(Path socketPath, int socket) {
    this.socketPath = socketPath;
    this.socket = socket;
  }

  /** Connects to a holder already serving on {@code socketPath}. */
  static FdHolderClient connect(Path socketPath) throws IOException {
    var client = new FdHolderClient(socketPath, UnixSockets.connect(socketPath, REPLY_TIMEOUT));
    try {
      client.ping();
    } catch (IOException e) {
      client.close();
      throw e;
    }
    return client;
  }

  /**
   * Connects to the holder serving on {@code socketPath}, or starts one with {@code command}
   * (appending its output to {@code logFile}) when none answers there.
   */
  public static FdHolderClient connectOrStart(Path socketPath, List<String> command, Path logFile)
      throws IOException {
    try {
      var client = connect(socketPath);
      log.info("using the running fd holder at {}", socketPath);
      return client;
    } catch (IOException e) {
      log.debug("no fd holder answers at {} ({}); starting one", socketPath, e.getMessage());
    }
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .start();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(
            "the fd holder ended at start (exit "
                + process.exitValue()
                + "); see "
                + logFile
                + ", or run the snapshotter with --no-fd-holder");
      }
      try {
        var client = connect(socketPath);
        log.info("started the fd holder (pid {}) at {}", process.pid(), socketPath);
        return client;
      } catch (IOException e) {
        last = e;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while starting the fd holder", e);
      }
    }
    process.destroy();
    throw new IOException(
        "the fd holder did not answer at "
            + socketPath
            + " within "
            + START_TIMEOUT.toSeconds()
            + " s ("
            + (last == null ? "" : last.getMessage())
            + "); see "
            + logFile,
        last);
  }

  /** Hands the holder a duplicate of {@code fd} to keep under {@code key}. */
  public synchronized void put(String key, int fd, String meta) throws IOException {
    check(key);
    check(meta);
    expectOk(call("PUT\n" + key + "\n" + meta, fd), "PUT " + key);
  }

  /** A duplicate of the descriptor kept under {@code key}, now owned by the caller. */
  public synchronized Optional<HeldFd> get(String key) throws IOException {
    check(key);
    var reply = callRaw("GET\n" + key, -1);
    String text = reply.text();
    if (text.equals("NONE")) {
      closeIfAny(reply.fd());
      return Optional.empty();
    }
    if (!text.startsWith("OK\n") || reply.fd() < 0) {
      closeIfAny(reply.fd());
      throw new IOException("the fd holder answered GET " + key + " with '" + text + "'");
    }
    return Optional.of(new HeldFd(reply.fd(), text.substring(3)));
  }

  /** Lets the holder close what it keeps under {@code key} (nothing if it keeps nothing). */
  public synchronized void drop(String key) throws IOException {
    check(key);
    expectOk(call("DROP\n" + key, -1), "DROP " + key);
  }

  /** The keys the holder keeps descriptors for. */
  public synchronized List<String> list() throws IOException {
    String text = call("LIST", -1);
    expectOk(text.lines().findFirst().orElse(""), "LIST");
    return text.lines().skip(1).toList();
  }

  /** Fails unless the holder answers. */
  public synchronized void ping() throws IOException {
    expectOk(call("PING", -1), "PING");
  }

  /** True if the holder answers now. */
  public boolean alive() {
    try {
      ping();
      return true;
    } catch (IOException e) {
      log.warn("the fd holder at {} does not answer: {}", socketPath, e.getMessage());
      return false;
    }
  }

  private String call(String request, int fd) throws IOException {
    var reply = callRaw(request, fd);
    closeIfAny(reply.fd());
    return reply.text();
  }

  private UnixSockets.Received callRaw(String request, int fd) throws IOException {
    if (socket < 0) {
      throw new IOException("the connection to the fd holder at " + socketPath + " is closed");
    }
    UnixSockets.send(socket, request.getBytes(StandardCharsets.UTF_8), fd);
    var reply = UnixSockets.receive(socket, MAX_REPLY);
    if (reply.bytes().length == 0) {
      closeIfAny(reply.fd());
      throw new IOException("the fd holder at " + socketPath + " closed the connection");
    }
    return reply;
  }

  private static void expectOk(String reply, String request) throws IOException {
    if (!reply.equals("OK")) {
      throw new IOException("the fd holder answered " + request + " with '" + reply + "'");
    }
  }

  private static void check(String field) {
    if (field.indexOf('\n') >= 0) {
      throw new IllegalArgumentException("no line breaks in fd holder keys: " + field);
    }
  }

  private static void closeIfAny(int fd) {
    if (fd >= 0) {
      Libc.close(fd);
    }
  }

  @Override
  public synchronized void close() {
    if (socket >= 0) {
      Libc.close(socket);
      socket = -1;
    }
  }
}
