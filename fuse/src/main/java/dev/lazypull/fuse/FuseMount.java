package dev.lazypull.fuse;

import dev.lazypull.fuse.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A filesystem mounted at a directory and served by worker threads until unmounted.
 *
 * <pre>{@code
 * try (var mount = FuseMount.mount(dir, fs, MountOptions.defaults("img", "lazypull"))) {
 *   ... // the mount serves until close() unmounts it
 * }
 * }</pre>
 */
public final class FuseMount implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FuseMount.class);
  private static final Duration WORKER_EXIT_WAIT = Duration.ofSeconds(10);

  private final String mountPoint;
  private final Session session;
  private final List<Thread> threads;
  private final List<Worker> workers;
  private final List<Integer> fds;
  private final Arena arena;
  private final AtomicBoolean unmounted = new AtomicBoolean();

  private FuseMount(
      String mountPoint, Session session, List<Worker> workers, List<Integer> fds, Arena arena) {
    this.mountPoint = mountPoint;
    this.session = session;
    this.workers = List.copyOf(workers);
    this.threads = start(workers, mountPoint);
    this.fds = fds;
    this.arena = arena;
  }

  /**
   * Mounts {@code filesystem} at {@code mountPoint} and starts serving it. A dead FUSE mount left
   * there by a server that died is detached first. Returns once the kernel has accepted INIT.
   */
  public static FuseMount mount(Path mountPoint, FuseFilesystem filesystem, MountOptions options)
      throws IOException {
    var target = mountPoint.toAbsolutePath().toString();
    KernelMounter.detachDeadMount(target);
    int fd = KernelMounter.openDevice();
    var arena = Arena.ofShared();
    var fds = new ArrayList<Integer>();
    fds.add(fd);
    boolean mounted = false;
    Session session = null;
    try {
      KernelMounter.mount(fd, target, options);
      mounted = true;
      session = new Session(filesystem, fd, options.maxWrite(), options.workers());
      try (var initArena = Arena.ofConfined()) {
        var init = new Worker(session, fd, session.requests[0], initArena);
        long agreed = initialize(target, init, session, options);
        LOG.debug("FUSE INIT at {}: flags {}", target, Long.toHexString(agreed));
      }
      var mount = new FuseMount(target, session, workers(session, fd, fds, arena), fds, arena);
      raiseReadahead(target, options.maxWrite());
      return mount;
    } catch (IOException | RuntimeException e) {
      if (mounted) {
        KernelMounter.unmount(target, true); // never leave a mount nobody serves
      }
      fds.forEach(Libc::close);
      if (session != null) {
        Libc.close(session.stopFd);
      }
      arena.close();
      throw e;
    }
  }

  /**
   * Serves a FUSE connection that an earlier process mounted at {@code mountPoint} and initialised:
   * {@code deviceFd} is a /dev/fuse descriptor of that connection (handed over, e.g. with
   * SCM_RIGHTS), and the kernel has long had its INIT answer, so none is awaited. {@code options}
   * must carry the max_write agreed at INIT; passthrough is never used here, since backing ids
   * registered by the earlier process cannot be known. The mount owns {@code deviceFd} from now on,
   * also when this fails. The kernel's node ids and file handles stay those the earlier server
   * gave: {@code filesystem} must give the same ones for the same files.
   */
  public static FuseMount resume(
      Path mountPoint, int deviceFd, FuseFilesystem filesystem, MountOptions options)
      throws IOException {
    var target = mountPoint.toAbsolutePath().toString();
    var arena = Arena.ofShared();
    var fds = new ArrayList<Integer>();
    fds.add(deviceFd);
    Session session = null;
    try {
      session = new Session(filesystem, deviceFd, options.maxWrite(), options.workers());
      var mount =
          new FuseMount(target, session, workers(session, deviceFd, fds, arena), fds, arena);
      LOG.debug("FUSE at {}: resumed serving an initialised connection", target);
      return mount;
    } catch (IOException | RuntimeException e) {
      fds.forEach(Libc::close);
      if (session != null) {
        Libc.close(session.stopFd);
      }
      arena.close();
      throw e;
    }
  }

  /**
   * One worker per cloned descriptor. Workers never read on {@code fd} itself when a clone can be
   * had: a request read through a clone and left unanswered (the process died) is failed by the
   * kernel when the clone closes, while one read through {@code fd}, whose open file another
   * process may share, would wait for an answer for as long as that process keeps it.
   */
  private static List<Worker> workers(Session session, int fd, List<Integer> fds, Arena arena)
      throws IOException {
    var workers = new ArrayList<Worker>();
    for (int i = 0; i < session.requests.length; i++) {
      int workerFd = cloneOrShare(fd);
      if (workerFd != fd) {
        fds.add(workerFd);
      }
      workers.add(new Worker(session, workerFd, session.requests[i], arena));
    }
    return workers;
  }

  /**
   * Lets the kernel read ahead as much as one request can carry. A FUSE mount starts with the
   * kernel's 128 KiB default, which makes a sequential reader pay a round trip per 128 KiB;
   * measured here, 1 MiB took a cached 512 MiB read from 0.42x to 0.67x of local disk. Runs after
   * the workers start, since stat of the mount point may need the server.
   */
  private static void raiseReadahead(String target, int maxWrite) {
    try {
      long dev = (long) java.nio.file.Files.getAttribute(Path.of(target), "unix:dev");
      long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
      long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
      Path setting = Path.of("/sys/class/bdi/" + major + ":" + minor + "/read_ahead_kb");
      java.nio.file.Files.writeString(setting, Integer.toString(maxWrite / 1024));
    } catch (IOException | RuntimeException e) {
      LOG.debug("FUSE at {}: kept the default readahead: {}", target, e.toString());
    }
  }

  /**
   * Detaches a mount at {@code mountPoint} whose server died ("Transport endpoint is not
   * connected"); returns true if there was one. {@link #mount} does this itself.
   */
  public static boolean detachDeadMount(Path mountPoint) throws IOException {
    return KernelMounter.detachDeadMount(mountPoint.toAbsolutePath().toString());
  }

  private static long initialize(String target, Worker first, Session session, MountOptions options)
      throws IOException {
    long agreed = first.serveInit(options.passthrough());
    if ((agreed & Protocol.PASSTHROUGH) != 0) {
      session.enablePassthrough();
    } else if (options.passthrough()) {
      LOG.info("FUSE at {}: the kernel offers no passthrough; all reads go through", target);
    }
    return agreed;
  }

  private static int cloneOrShare(int fd) throws IOException {
    try {
      return KernelMounter.cloneDevice(fd);
    } catch (IOException e) {
      LOG.warn("FUSE: {}; workers share one /dev/fuse descriptor", e.getMessage());
      int result = Libc.setNonBlocking(fd);
      if (result < 0) {
        throw new IOException("making /dev/fuse non-blocking: " + Libc.strerror(-result), e);
      }
      return fd;
    }
  }

  private static List<Thread> start(List<Worker> workers, String target) {
    var threads = new ArrayList<Thread>();
    for (int i = 0; i < workers.size(); i++) {
      threads.add(
          Thread.ofPlatform().name("fuse-" + i + "-" + target).daemon().start(workers.get(i)));
    }
    return threads;
  }

  /** The absolute directory this filesystem is mounted at. */
  public String mountPoint() {
    return mountPoint;
  }

  /** True if the kernel agreed to passthrough, so {@link OpenFile#passthroughFd()} is used. */
  public boolean passthroughEnabled() {
    return session.passthrough();
  }

  /**
   * Requests served so far, by operation name ("READ", "LOOKUP", "opcode 39" for unanswered ones),
   * for statistics and tests.
   */
  public Map<String, Long> requestCounts() {
    var counts = new TreeMap<String, Long>();
    for (int opcode = 0; opcode < Protocol.OPCODE_LIMIT; opcode++) {
      long total = 0;
      for (var worker : workers) {
        total += worker.served(opcode);
      }
      if (total > 0) {
        counts.put(Protocol.opcodeName(opcode), total);
      }
    }
    return counts;
  }

  /**
   * The /dev/fuse descriptor the connection was mounted (or resumed) with, e.g. to hand it to a
   * process that keeps the connection alive across a restart. It stays owned by this mount.
   */
  public int deviceFd() {
    return session.controlFd;
  }

  /** The max_write agreed at INIT: what {@link #resume} must be given for this connection. */
  public int maxWrite() {
    return session.maxWrite;
  }

  /**
   * Stops serving without unmounting: every worker answers the request it is serving and reads no
   * further one, for at most {@code bound}; then the descriptors are closed. Requests not yet read
   * stay queued in the kernel for whoever serves the connection next, which needs another holder of
   * a descriptor of it: otherwise closing ends the connection and the mount is dead. Returns false
   * if a worker was still busy at the bound (its descriptors are then left to process exit).
   */
  public boolean stopServing(Duration bound) throws InterruptedException {
    session.stop();
    long deadline = System.nanoTime() + bound.toNanos();
    for (var thread : threads) {
      long left = deadline - System.nanoTime();
      if (left > 0) {
        thread.join(Duration.ofNanos(left));
      }
    }
    unmounted.set(true); // the mount is someone else's to end now
    if (serving()) {
      return false;
    }
    release();
    return true;
  }

  /** True while at least one worker serves requests. */
  public boolean serving() {
    return threads.stream().anyMatch(Thread::isAlive);
  }

  /**
   * Unmounts and waits for the workers to stop. Fails with EBUSY while files on the mount are in
   * use; {@link #detach()} then unmounts lazily.
   */
  @Override
  public void close() throws IOException {
    unmount(false);
  }

  /** Detaches the mount lazily (MNT_DETACH): it disappears now, serving ends at last close. */
  public void detach() throws IOException {
    unmount(true);
  }

  /** Blocks until the mount ends (unmounted by anyone, or the connection aborted). */
  public void awaitEnd() throws InterruptedException {
    for (var thread : threads) {
      thread.join();
    }
    release();
  }

  private void unmount(boolean lazily) throws IOException {
    if (!unmounted.get()) {
      int result = KernelMounter.unmount(mountPoint, lazily);
      if (result < 0 && result != -Errno.EINVAL) { // EINVAL: no longer mounted
        throw new IOException(
            "unmounting "
                + mountPoint
                + ": "
                + Libc.strerror(-result)
                + (result == -Errno.EBUSY ? "; close files using it, or detach lazily" : ""));
      }
      unmounted.set(true);
    }
    if (lazily) {
      return; // serving continues until the last user lets go
    }
    try {
      for (var thread : threads) {
        thread.join(WORKER_EXIT_WAIT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for FUSE workers of " + mountPoint, e);
    }
    release();
  }

  private synchronized void release() {
    if (serving() || fds.isEmpty()) {
      return;
    }
    fds.forEach(Libc::close);
    fds.clear();
    Libc.close(session.stopFd);
    session.destroy();
    arena.close();
  }
}
