package dev.lazypull.fuse;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.lazypull.fuse.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread's request loop on its own /dev/fuse descriptor. The request and reply buffers are
 * off-heap and reused, so serving a read allocates nothing.
 */
final class Worker implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

  private final Session session;
  private final FuseFilesystem fs;
  private final int fd;
  private final WorkerRequest request;
  private final MemorySegment in;
  private final ReplyChannel reply;
  private final MemorySegment replyBody;
  private final DirectoryBuffer directory;
  private final MemorySegment pollFds;

  /** Requests served, by opcode; written only by this worker, read by anyone for statistics. */
  private final long[] served = new long[Protocol.OPCODE_LIMIT];

  Worker(Session session, int fd, WorkerRequest request, Arena arena) {
    this.session = session;
    this.fs = session.filesystem;
    this.fd = fd;
    this.request = request;
    // The kernel refuses reads into a buffer smaller than one write request: max_write plus the
    // in header and struct fuse_write_in.
    this.in = arena.allocate(session.maxWrite + 4096L, 4096);
    // Replies carry at most max_write bytes of data, or an extended attribute (up to 64 KiB).
    this.reply = new ReplyChannel(fd, Math.max(session.maxWrite, 65536), arena);
    this.replyBody = reply.body();
    this.directory = new DirectoryBuffer(replyBody);
    // struct pollfd[2]: {int fd; short events; short revents;} for /dev/fuse and the stop signal.
    this.pollFds = arena.allocate(16, 8);
    pollFds.set(JAVA_INT_UNALIGNED, 0, fd);
    pollFds.set(JAVA_SHORT_UNALIGNED, 4, Libc.POLLIN);
    pollFds.set(JAVA_INT_UNALIGNED, 8, session.stopFd);
    pollFds.set(JAVA_SHORT_UNALIGNED, 12, Libc.POLLIN);
  }

  /** How many requests of {@code opcode} this worker has served (a racy but harmless read). */
  long served(int opcode) {
    return served[opcode];
  }

  @Override
  public void run() {
    try {
      while (!session.stopping()) {
        // The descriptor is non-blocking: a busy connection is read without waiting, and when
        // nothing is queued (or another worker took the request first: EAGAIN) the worker waits
        // in poll beside the session's stop signal, so that stopping never finds it inside a
        // read whose request it could no longer answer.
        long length = Libc.read(fd, in, in.byteSize());
        if (length >= 0) {
          serve();
          continue;
        }
        int errno = (int) -length;
        if (errno == Errno.EAGAIN) {
          int ready = Libc.poll(pollFds, 2, -1);
          if (ready < 0 && ready != -Errno.EINTR) {
            LOG.error("FUSE worker: poll on /dev/fuse failed: {}; stopping", Libc.strerror(-ready));
            return;
          }
          continue;
        }
        // ENOENT: the request we were handed was interrupted before we read it; EINTR: a signal.
        // ENODEV: the filesystem was unmounted or the connection aborted.
        if (errno == Errno.ENOENT || errno == Errno.EINTR) {
          continue;
        }
        if (errno != Errno.ENODEV) {
          LOG.error("FUSE worker: reading /dev/fuse failed: {}; stopping", Libc.strerror(errno));
        }
        return;
      }
      // Stopped: nothing read is left unanswered; the kernel keeps later requests queued for
      // whoever serves the connection next.
    } finally {
      session.workerStopped();
    }
  }

  /** Reads and answers the INIT request that follows mount(2); returns the negotiated flags. */
  long serveInit(boolean wantPassthrough) throws IOException {
    long length;
    do {
      length = Libc.read(fd, in, in.byteSize());
    } while (length == -Errno.EINTR || length == -Errno.ENOENT);
    if (length < 0) {
      throw new IOException("reading FUSE INIT: " + Libc.strerror((int) -length));
    }
    int opcode = in.get(JAVA_INT_UNALIGNED, Protocol.IN_OPCODE);
    if (opcode != Protocol.INIT) {
      throw new IOException("expected FUSE INIT first, got " + opcode);
    }
    long unique = in.get(JAVA_LONG_UNALIGNED, Protocol.IN_UNIQUE);
    return InitNegotiation.answer(
        in.asSlice(Protocol.IN_HEADER_SIZE),
        replyBody,
        session.maxWrite,
        wantPassthrough,
        body -> reply.send(unique, body));
  }

  private void serve() {
    int opcode = in.get(JAVA_INT_UNALIGNED, Protocol.IN_OPCODE);
    served[Math.floorMod(opcode, Protocol.OPCODE_LIMIT)]++;
    long unique = in.get(JAVA_LONG_UNALIGNED, Protocol.IN_UNIQUE);
    long nodeId = in.get(JAVA_LONG_UNALIGNED, Protocol.IN_NODEID);
    request.begin(
        unique,
        in.get(JAVA_INT_UNALIGNED, Protocol.IN_UID),
        in.get(JAVA_INT_UNALIGNED, Protocol.IN_GID),
        in.get(JAVA_INT_UNALIGNED, Protocol.IN_PID));
    try {
      dispatch(opcode, unique, nodeId);
    } catch (FuseException e) {
      if (expectsReply(opcode)) {
        reply.sendError(unique, e.errno());
      }
    } catch (Throwable t) { // a buggy callback must not kill the loop
      session.failures.callbackFailed(opcode, nodeId, t);
      if (expectsReply(opcode)) {
        reply.sendError(unique, Errno.EIO);
      }
    } finally {
      request.end();
    }
  }

  /** The kernel waits for no answer to forgets (and to interrupts, except EAGAIN). */
  private static boolean expectsReply(int opcode) {
    return opcode != Protocol.FORGET
        && opcode != Protocol.BATCH_FORGET
        && opcode != Protocol.INTERRUPT;
  }

  private void dispatch(int opcode, long unique, long nodeId) throws FuseException {
    long arg = Protocol.IN_HEADER_SIZE;
    switch (opcode) {
      case Protocol.READ -> read(unique, nodeId, arg);
      case Protocol.LOOKUP -> lookup(unique, nodeId, arg);
      case Protocol.GETATTR -> {
        AttributesWriter.writeAttrOut(replyBody, 0, fs.getattr(request, nodeId));
        reply.send(unique, Protocol.ATTR_OUT_SIZE);
      }
      case Protocol.FORGET -> fs.forget(nodeId, in.get(JAVA_LONG_UNALIGNED, arg));
      case Protocol.BATCH_FORGET -> batchForget(arg);
      case Protocol.READLINK -> reply.sendBytes(unique, fs.readlink(request, nodeId));
      case Protocol.OPEN -> open(unique, nodeId, arg);
      case Protocol.RELEASE -> release(unique, nodeId, arg);
      case Protocol.OPENDIR -> opendir(unique, nodeId, arg);
      case Protocol.READDIR -> readdir(unique, nodeId, arg, false);
      case Protocol.READDIRPLUS -> readdir(unique, nodeId, arg, true);
      case Protocol.RELEASEDIR -> {
        fs.releasedir(nodeId, in.get(JAVA_LONG_UNALIGNED, arg));
        reply.send(unique, 0);
      }
      case Protocol.STATFS -> statfs(unique, nodeId);
      case Protocol.GETXATTR -> getxattr(unique, nodeId, arg);
      case Protocol.LISTXATTR ->
          xattrReply(unique, in.get(JAVA_INT_UNALIGNED, arg), fs.listxattr(request, nodeId));
      case Protocol.ACCESS -> {
        fs.access(request, nodeId, in.get(JAVA_INT_UNALIGNED, arg));
        reply.send(unique, 0);
      }
      case Protocol.LSEEK -> lseek(unique, nodeId, arg);
      case Protocol.INTERRUPT -> interrupt(unique, arg);
      case Protocol.DESTROY -> {
        session.destroy();
        reply.send(unique, 0);
      }
      default -> reply.sendError(unique, Errno.ENOSYS);
    }
  }

  /** struct fuse_read_in: fh u64, offset u64, size u32, ... */
  private void read(long unique, long nodeId, long arg) throws FuseException {
    long handle = in.get(JAVA_LONG_UNALIGNED, arg);
    long fileOffset = in.get(JAVA_LONG_UNALIGNED, arg + 8);
    int size = Math.min(in.get(JAVA_INT_UNALIGNED, arg + 16), (int) replyBody.byteSize());
    int count = fs.read(request, nodeId, handle, fileOffset, size, replyBody);
    reply.send(unique, Math.max(0, Math.min(count, size)));
  }

  private void lookup(long unique, long parent, long arg) throws FuseException {
    var entry = fs.lookup(request, parent, nulTerminated(arg));
    // A missing entry goes out with node id 0: the kernel's ENOENT that it may cache.
    AttributesWriter.writeEntry(replyBody, 0, entry);
    reply.send(unique, Protocol.ENTRY_OUT_SIZE);
  }

  /** struct fuse_batch_forget_in: count u32, dummy u32, then {nodeid, nlookup} pairs. */
  private void batchForget(long arg) {
    int count = in.get(JAVA_INT_UNALIGNED, arg);
    for (int i = 0; i < count; i++) {
      long at = arg + 8 + 16L * i;
      fs.forget(in.get(JAVA_LONG_UNALIGNED, at), in.get(JAVA_LONG_UNALIGNED, at + 8));
    }
  }

  /** struct fuse_open_in: flags u32; reply struct fuse_open_out: fh, open_flags, backing_id. */
  private void open(long unique, long nodeId, long arg) throws FuseException {
    var file = fs.open(request, nodeId, in.get(JAVA_INT_UNALIGNED, arg));
    int openFlags = openFlags(file);
    int backingId;
    try {
      backingId = session.openWithMode(nodeId, file.passthroughFd());
    } finally {
      if (file.transportClosesFd() && file.passthroughFd() >= 0) {
        Libc.close(file.passthroughFd());
      }
    }
    if (backingId > 0) {
      // The kernel forbids mixing passthrough with its own page cache or direct I/O flags.
      openFlags = Protocol.FOPEN_PASSTHROUGH;
    }
    writeOpenOut(file.handle(), openFlags, backingId);
    if (!reply.send(unique, Protocol.OPEN_OUT_SIZE)) {
      session.releaseWithMode(nodeId);
      fs.release(nodeId, file.handle());
    }
  }

  private void opendir(long unique, long nodeId, long arg) throws FuseException {
    if (fs.statelessDirectories()) {
      throw new FuseException(Errno.ENOSYS); // see FuseFilesystem.statelessDirectories
    }
    var dir = fs.opendir(request, nodeId, in.get(JAVA_INT_UNALIGNED, arg));
    // For a directory, keeping the cache also means caching its listing (FOPEN_CACHE_DIR).
    int openFlags = openFlags(dir) | (dir.keepCache() ? Protocol.FOPEN_CACHE_DIR : 0);
    writeOpenOut(dir.handle(), openFlags, 0);
    if (!reply.send(unique, Protocol.OPEN_OUT_SIZE)) {
      fs.releasedir(nodeId, dir.handle());
    }
  }

  private static int openFlags(OpenFile file) {
    return (file.keepCache() ? Protocol.FOPEN_KEEP_CACHE : 0)
        | (file.directIo() ? Protocol.FOPEN_DIRECT_IO : 0);
  }

  private void writeOpenOut(long handle, int openFlags, int backingId) {
    replyBody.set(JAVA_LONG_UNALIGNED, 0, handle);
    replyBody.set(JAVA_INT_UNALIGNED, 8, openFlags);
    replyBody.set(JAVA_INT_UNALIGNED, 12, backingId);
  }

  /** struct fuse_release_in: fh u64, flags u32, release_flags u32, lock_owner u64. */
  private void release(long unique, long nodeId, long arg) {
    long handle = in.get(JAVA_LONG_UNALIGNED, arg);
    session.releaseWithMode(nodeId);
    fs.release(nodeId, handle);
    reply.send(unique, 0);
  }

  private void readdir(long unique, long nodeId, long arg, boolean plus) throws FuseException {
    long handle = in.get(JAVA_LONG_UNALIGNED, arg);
    long offset = in.get(JAVA_LONG_UNALIGNED, arg + 8);
    directory.reset(plus, in.get(JAVA_INT_UNALIGNED, arg + 16));
    fs.readdir(request, nodeId, handle, offset, directory);
    reply.send(unique, directory.used());
  }

  /** struct fuse_kstatfs. */
  private void statfs(long unique, long nodeId) throws FuseException {
    var stats = fs.statfs(request, nodeId);
    replyBody.asSlice(0, Protocol.KSTATFS_SIZE).fill((byte) 0);
    replyBody.set(JAVA_LONG_UNALIGNED, 0, stats.blocks());
    replyBody.set(JAVA_LONG_UNALIGNED, 8, stats.blocksFree());
    replyBody.set(JAVA_LONG_UNALIGNED, 16, stats.blocksAvailable());
    replyBody.set(JAVA_LONG_UNALIGNED, 24, stats.files());
    replyBody.set(JAVA_LONG_UNALIGNED, 32, stats.filesFree());
    replyBody.set(JAVA_INT_UNALIGNED, 40, stats.blockSize());
    replyBody.set(JAVA_INT_UNALIGNED, 44, stats.maxNameLength());
    replyBody.set(JAVA_INT_UNALIGNED, 48, stats.fragmentSize());
    reply.send(unique, Protocol.KSTATFS_SIZE);
  }

  /** struct fuse_getxattr_in: size u32, padding u32, then the NUL-terminated name. */
  private void getxattr(long unique, long nodeId, long arg) throws FuseException {
    int size = in.get(JAVA_INT_UNALIGNED, arg);
    xattrReply(unique, size, fs.getxattr(request, nodeId, nulTerminated(arg + 8)));
  }

  /** A size of 0 asks only for the length (struct fuse_getxattr_out); too small is ERANGE. */
  private void xattrReply(long unique, int size, byte[] value) {
    if (size == 0) {
      replyBody.set(JAVA_INT_UNALIGNED, 0, value.length);
      replyBody.set(JAVA_INT_UNALIGNED, 4, 0);
      reply.send(unique, 8);
    } else if (value.length > size) {
      reply.sendError(unique, Errno.ERANGE);
    } else {
      reply.sendBytes(unique, value);
    }
  }

  /** struct fuse_lseek_in: fh u64, offset u64, whence u32; reply struct fuse_lseek_out. */
  private void lseek(long unique, long nodeId, long arg) throws FuseException {
    long handle = in.get(JAVA_LONG_UNALIGNED, arg);
    long fileOffset = in.get(JAVA_LONG_UNALIGNED, arg + 8);
    int whence = in.get(JAVA_INT_UNALIGNED, arg + 16);
    replyBody.set(JAVA_LONG_UNALIGNED, 0, fs.lseek(request, nodeId, handle, fileOffset, whence));
    reply.send(unique, 8);
  }

  /**
   * INTERRUPT has no reply, except EAGAIN when no worker holds the target yet (a worker may have
   * read it but not yet published it): the kernel then sends the interrupt again, or drops it if
   * the target has been answered meanwhile.
   */
  private void interrupt(long unique, long arg) {
    long target = in.get(JAVA_LONG_UNALIGNED, arg);
    if (!session.interrupt(target)) {
      reply.sendError(unique, Errno.EAGAIN);
    }
  }

  private byte[] nulTerminated(long at) {
    long end = at;
    long length = in.get(JAVA_INT_UNALIGNED, Protocol.IN_LEN);
    while (end < length && in.get(JAVA_BYTE, end) != 0) {
      end++;
    }
    return in.asSlice(at, end - at).toArray(JAVA_BYTE);
  }
}
