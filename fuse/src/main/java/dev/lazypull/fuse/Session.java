package dev.lazypull.fuse;

import dev.lazypull.fuse.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the workers of one mount share: the filesystem, negotiated features, live requests. */
final class Session {
  private static final Logger LOG = LoggerFactory.getLogger(Session.class);

  final FuseFilesystem filesystem;
  final FailureLog failures = new FailureLog();
  final int controlFd;
  final int maxWrite;
  final WorkerRequest[] requests;
  private final InodeIoModes ioModes = new InodeIoModes(this::openBacking, this::closeBacking);
  private final AtomicBoolean destroyed = new AtomicBoolean();
  private final AtomicInteger liveWorkers;
  private final AtomicBoolean passthroughFailureLogged = new AtomicBoolean();
  private volatile boolean passthrough;

  /**
   * Readable once the session is told to stop: workers poll it beside /dev/fuse, so that a worker
   * waiting for a request wakes up and ends without reading one it could no longer answer.
   */
  final int stopFd;

  private volatile boolean stopping;

  Session(FuseFilesystem filesystem, int controlFd, int maxWrite, int workers) throws IOException {
    this.filesystem = filesystem;
    this.controlFd = controlFd;
    this.maxWrite = maxWrite;
    this.stopFd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
    if (stopFd < 0) {
      throw new IOException("eventfd for the FUSE session: " + Libc.strerror(-stopFd));
    }
    this.liveWorkers = new AtomicInteger(workers);
    this.requests = new WorkerRequest[workers];
    for (int i = 0; i < workers; i++) {
      requests[i] = new WorkerRequest();
    }
  }

  boolean passthrough() {
    return passthrough;
  }

  void enablePassthrough() {
    passthrough = true;
  }

  /** True once {@link #stop} was called: workers read no further requests. */
  boolean stopping() {
    return stopping;
  }

  /** Tells every worker to end after the request it is serving, if any. */
  void stop() {
    stopping = true;
    try (var arena = Arena.ofConfined()) {
      Libc.write(stopFd, arena.allocateFrom(ValueLayout.JAVA_LONG, 1L), 8);
    }
  }

  /** Flags the request the kernel wants interrupted; false if no worker is serving it. */
  boolean interrupt(long targetUnique) {
    for (var request : requests) {
      if (request.interruptIf(targetUnique)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Counts an open of {@code nodeId} and returns the backing id to answer it with, or 0 to answer
   * it without passthrough. {@code offeredFd} is the filesystem's local file for it, or -1; it is
   * used only if the inode has no open files yet (see {@link InodeIoModes}).
   */
  int openWithMode(long nodeId, int offeredFd) {
    return passthrough ? ioModes.open(nodeId, offeredFd) : 0;
  }

  /** Counts a release of {@code nodeId}; the inode's last one unregisters its backing file. */
  void releaseWithMode(long nodeId) {
    if (passthrough) {
      ioModes.release(nodeId);
    }
  }

  /** Registers {@code fd} with the kernel; returns its backing id, or -1 if the kernel refused. */
  private int openBacking(int fd) {
    int backingId;
    try (var arena = Arena.ofConfined()) {
      // struct fuse_backing_map { int32 fd; uint32 flags; uint64 padding; }
      var map = arena.allocate(16);
      map.fill((byte) 0);
      map.set(ValueLayout.JAVA_INT, 0, fd);
      backingId = Libc.ioctl(controlFd, Protocol.DEV_IOC_BACKING_OPEN, map);
    }
    if (backingId < 0) {
      if (passthroughFailureLogged.compareAndSet(false, true)) {
        LOG.warn(
            "FUSE passthrough: the kernel refused to register a backing file ({}); serving reads"
                + " through the filesystem instead (further refusals are not logged)",
            Libc.strerror(-backingId));
      }
      return -1;
    }
    return backingId;
  }

  private void closeBacking(int backingId) {
    try (var arena = Arena.ofConfined()) {
      var id = arena.allocateFrom(ValueLayout.JAVA_INT, backingId);
      int result = Libc.ioctl(controlFd, Protocol.DEV_IOC_BACKING_CLOSE, id);
      if (result < 0) {
        LOG.warn("FUSE passthrough: closing backing id {}: {}", backingId, Libc.strerror(-result));
      }
    }
  }

  /** The last worker to stop ends the session. */
  void workerStopped() {
    if (liveWorkers.decrementAndGet() == 0) {
      destroy();
    }
  }

  /** Tells the filesystem the connection is over, once. */
  void destroy() {
    if (destroyed.compareAndSet(false, true)) {
      try {
        filesystem.destroy();
      } catch (RuntimeException e) {
        LOG.error("FUSE filesystem destroy failed", e);
      }
    }
  }
}
