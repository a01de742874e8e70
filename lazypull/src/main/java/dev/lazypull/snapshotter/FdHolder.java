package dev.lazypull.snapshotter;

import dev.lazypull.fuse.linux.Libc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fd holder ({@code lazypull fd-holder}): a small process that keeps one /dev/fuse descriptor
 * per lazily mounted layer, so that the FUSE connections outlive a snapshotter daemon that stops
 * (SIGTERM, an upgrade) or dies. The next daemon takes the descriptors back and serves the same
 * mounts; requests made meanwhile wait in the kernel's queue.
 *
 * <p>Protocol: one SOCK_SEQPACKET packet per request and per reply, UTF-8 lines. {@code PUT key
 * meta} (with the descriptor beside it), {@code GET key} (reply {@code OK meta} with the
 * descriptor, or {@code NONE}), {@code DROP key}, {@code LIST} (the keys), {@code PING}.
 *
 * <p>A held connection nobody serves makes its readers wait, so the holder does not wait forever:
 * once no daemon has been connected for the grace period it closes every descriptor (the mounts'
 * readers then get ENOTCONN, as after a crash without a holder) and exits.
 */
public final class FdHolder {
  private static final Logger log = LoggerFactory.getLogger(FdHolder.class);

  /** Requests are a key and a short description: far below this. */
  static final int MAX_REQUEST = 64 * 1024;

  private record Held(int fd, String meta) {}

  private final Path socket;
  private final Duration grace;
  private final Map<String, Held> held = new HashMap<>();
  private final CountDownLatch ended = new CountDownLatch(1);
  private int connections;
  private long idleSinceNanos = System.nanoTime();
  private boolean ending;
  private int listening = -1;

  private FdHolder(Path socket, Duration grace) {
    this.socket = socket;
    this.grace = grace;
  }

  /** The pid file beside {@code socket}: {@code fd-holder.pid} in the same directory. */
  static Path pidFile(Path socket) {
    return socket.resolveSibling("fd-holder.pid");
  }

  /**
   * Serves on {@code socket} until no client has been connected for {@code grace}; a stale socket
   * file there is replaced. Starts a new session first, so that signals meant for the process group
   * that started the holder (a daemon's SIGTERM, a terminal's Ctrl-C) do not reach it.
   */
  public static void serve(Path socket, Duration grace) throws IOException, InterruptedException {
    UnixSockets.setsid();
    serveHere(socket, grace);
  }

  /** {@link #serve} in the caller's session: for tests, which run the holder in their own JVM. */
  static void serveHere(Path socket, Duration grace) throws IOException, InterruptedException {
    var holder = new FdHolder(socket, grace);
    Files.deleteIfExists(socket);
    holder.listening = UnixSockets.listen(socket);
    long pid = ProcessHandle.current().pid();
    Files.writeString(pidFile(socket), pid + "\n");
    log.info("fd holder {} serving on {} (grace {} s)", pid, socket, grace.toSeconds());
    Thread.ofPlatform().name("fd-holder-accept").daemon().start(holder::acceptLoop);
    Thread.ofPlatform().name("fd-holder-grace").daemon().start(holder::graceLoop);
    holder.ended.await();
  }

  private void acceptLoop() {
    while (true) {
      int connection;
      try {
        connection = UnixSockets.accept(listening);
      } catch (IOException e) {
        synchronized (this) {
          if (ending) {
            return;
          }
        }
        log.error("fd holder: {}; stopping", e.getMessage());
        end("accepting connections failed");
        return;
      }
      synchronized (this) {
        if (ending) {
          Libc.close(connection);
          return;
        }
        connections++;
      }
      Thread.ofPlatform().name("fd-holder-client").daemon().start(() -> serveClient(connection));
    }
  }

  private void graceLoop() {
    while (true) {
      try {
        Thread.sleep(Math.min(1000, Math.max(10, grace.toMillis() / 4)));
      } catch (InterruptedException e) {
        return;
      }
      synchronized (this) {
        if (connections == 0 && System.nanoTime() - idleSinceNanos >= grace.toNanos()) {
          end("no snapshotter daemon connected for " + grace.toSeconds() + " s");
          return;
        }
      }
    }
  }

  private void serveClient(int connection) {
    try {
      while (true) {
        var request = UnixSockets.receive(connection, MAX_REQUEST);
        if (request.bytes().length == 0 && request.fd() < 0) {
          return; // the daemon closed its end (or exited)
        }
        Reply reply = answer(request);
        UnixSockets.send(connection, reply.text().getBytes(StandardCharsets.UTF_8), reply.fd());
      }
    } catch (IOException e) {
      log.warn("fd holder: a client connection failed: {}", e.getMessage());
    } finally {
      Libc.close(connection);
      synchronized (this) {
        connections--;
        idleSinceNanos = System.nanoTime();
      }
    }
  }

  private record Reply(String text, int fd) {}

  private synchronized Reply answer(UnixSockets.Received request) {
    String[] lines = request.text().split("\n", -1);
    String verb = lines[0];
    int fd = request.fd();
    if (!verb.equals("PUT") && fd >= 0) {
      Libc.close(fd); // a descriptor that came with a request not meant to carry one
    }
    switch (verb) {
      case "PUT" -> {
        if (lines.length < 3 || fd < 0) {
          if (fd >= 0) {
            Libc.close(fd);
          }
          return new Reply("ERR PUT needs a key, a description and a descriptor", -1);
        }
        Held old = held.put(lines[1], new Held(fd, lines[2]));
        if (old != null) {
          Libc.close(old.fd());
        }
        log.info("holding the FUSE connection of {} ({})", lines[1], lines[2]);
        return new Reply("OK", -1);
      }
      case "GET" -> {
        Held found = lines.length < 2 ? null : held.get(lines[1]);
        return found == null ? new Reply("NONE", -1) : new Reply("OK\n" + found.meta(), found.fd());
      }
      case "DROP" -> {
        Held old = lines.length < 2 ? null : held.remove(lines[1]);
        if (old != null) {
          Libc.close(old.fd());
          log.info("released the FUSE connection of {}", lines[1]);
        }
        return new Reply("OK", -1);
      }
      case "LIST" -> {
        var text = new StringBuilder("OK");
        for (String key : held.keySet()) {
          text.append('\n').append(key);
        }
        return new Reply(text.toString(), -1);
      }
      case "PING" -> {
        return new Reply("OK", -1);
      }
      default -> {
        return new Reply("ERR unknown request " + verb, -1);
      }
    }
  }

  private synchronized void end(String why) {
    if (ending) {
      return;
    }
    ending = true;
    if (!held.isEmpty()) {
      log.warn(
          "fd holder: {}; closing the FUSE connections of {} (their readers now get ENOTCONN)",
          why,
          new ArrayList<>(held.keySet()));
    } else {
      log.info("fd holder: {}; exiting", why);
    }
    for (Held h : held.values()) {
      Libc.close(h.fd());
    }
    held.clear();
    try {
      Files.deleteIfExists(socket);
      if (Files.readString(pidFile(socket)).strip().equals(Long.toString(currentPid()))) {
        Files.deleteIfExists(pidFile(socket));
      }
    } catch (IOException e) {
      log.debug("fd holder: cleaning up {}: {}", socket, e.toString());
    }
    UnixSockets.shutdown(listening); // wakes the accept loop
    Libc.close(listening);
    ended.countDown();
  }

  private static long currentPid() {
    return ProcessHandle.current().pid();
  }
}
