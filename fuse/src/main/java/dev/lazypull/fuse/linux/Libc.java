package dev.lazypull.fuse.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * System calls through FFM. Every call returns its result, or {@code -errno} on failure, like the
 * kernel does: no exception and no garbage on the hot path, so callers decide what a failure means.
 */
public final class Libc {
  public static final int O_RDONLY = 0;
  public static final int O_RDWR = 2;
  public static final int O_NOFOLLOW = 0x20000;
  public static final int O_CLOEXEC = 0x80000;
  public static final int O_DIRECTORY = 0x10000;
  public static final int O_DIRECT = 0x4000;

  public static final long MS_RDONLY = 1;
  public static final long MS_NOSUID = 2;
  public static final long MS_NODEV = 4;
  public static final int MNT_DETACH = 2;

  public static final int SEEK_SET = 0;
  public static final int SEEK_DATA = 3;
  public static final int SEEK_HOLE = 4;

  public static final int POSIX_FADV_DONTNEED = 4;

  public static final short POLLIN = 1;
  public static final int EFD_CLOEXEC = 0x80000;
  public static final int EFD_NONBLOCK = 0x800;
  public static final int O_NONBLOCK = 0x800;
  private static final int F_GETFL = 3;
  private static final int F_SETFL = 4;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIBC = LINKER.defaultLookup();
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

  /** Each thread keeps its own errno capture buffer, so calls allocate nothing. */
  private static final ThreadLocal<MemorySegment> STATE =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE));

  // open(2) and ioctl(2) are variadic in C: the linker must be told where the "..." starts.
  private static final MethodHandle OPEN =
      bindVariadic("open", 2, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
  private static final MethodHandle CLOSE = bind("close", JAVA_INT, JAVA_INT);
  private static final MethodHandle READ = bind("read", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
  private static final MethodHandle WRITE = bind("write", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
  private static final MethodHandle PREAD =
      bind("pread", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG);
  private static final MethodHandle LSEEK = bind("lseek", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT);
  private static final MethodHandle IOCTL =
      bindVariadic("ioctl", 2, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS);
  private static final MethodHandle MOUNT =
      bind("mount", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
  private static final MethodHandle POLL = bind("poll", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
  private static final MethodHandle EVENTFD = bind("eventfd", JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle FCNTL =
      bindVariadic("fcntl", 2, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle UMOUNT2 = bind("umount2", JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle STAT = bind("stat", JAVA_INT, ADDRESS, ADDRESS);
  private static final MethodHandle STATFS = bind("statfs", JAVA_INT, ADDRESS, ADDRESS);

  /** sizeof(struct statfs) on x86_64 and arm64 Linux. */
  private static final long STATFS_SIZE = 120;

  private static final MethodHandle FADVISE =
      bind("posix_fadvise", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT);
  private static final MethodHandle GETUID =
      LINKER.downcallHandle(LIBC.findOrThrow("getuid"), FunctionDescriptor.of(JAVA_INT));
  private static final MethodHandle GETGID =
      LINKER.downcallHandle(LIBC.findOrThrow("getgid"), FunctionDescriptor.of(JAVA_INT));
  private static final MethodHandle STRERROR =
      LINKER.downcallHandle(LIBC.findOrThrow("strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));

  /** Bytes of glibc's x86-64 {@code struct stat}; only used as scratch for existence checks. */
  private static final long STAT_SIZE = 144;

  private Libc() {}

  private static MethodHandle bind(String name, MemoryLayout result, MemoryLayout... arguments) {
    return LINKER.downcallHandle(
        LIBC.findOrThrow(name), FunctionDescriptor.of(result, arguments), CAPTURE_ERRNO);
  }

  private static MethodHandle bindVariadic(
      String name, int firstVariadic, MemoryLayout result, MemoryLayout... arguments) {
    return LINKER.downcallHandle(
        LIBC.findOrThrow(name),
        FunctionDescriptor.of(result, arguments),
        CAPTURE_ERRNO,
        Linker.Option.firstVariadicArg(firstVariadic));
  }

  private static int errno(MemorySegment state) {
    return (int) ERRNO.get(state, 0L);
  }

  /** Opens a path given as raw bytes (no terminating NUL needed). */
  public static int open(byte[] path, int flags) {
    try (var arena = Arena.ofConfined()) {
      return open(cString(arena, path), flags);
    }
  }

  /** Opens a NUL-terminated path. */
  public static int open(MemorySegment path, int flags) {
    var state = STATE.get();
    try {
      int fd = (int) OPEN.invokeExact(state, path, flags, 0);
      return fd < 0 ? -errno(state) : fd;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int close(int fd) {
    var state = STATE.get();
    try {
      int result = (int) CLOSE.invokeExact(state, fd);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static long read(int fd, MemorySegment buffer, long count) {
    var state = STATE.get();
    try {
      long result = (long) READ.invokeExact(state, fd, buffer, count);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static long write(int fd, MemorySegment buffer, long count) {
    var state = STATE.get();
    try {
      long result = (long) WRITE.invokeExact(state, fd, buffer, count);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static long pread(int fd, MemorySegment buffer, long count, long fileOffset) {
    var state = STATE.get();
    try {
      long result = (long) PREAD.invokeExact(state, fd, buffer, count, fileOffset);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static long lseek(int fd, long fileOffset, int whence) {
    var state = STATE.get();
    try {
      long result = (long) LSEEK.invokeExact(state, fd, fileOffset, whence);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int ioctl(int fd, long request, MemorySegment argument) {
    var state = STATE.get();
    try {
      int result = (int) IOCTL.invokeExact(state, fd, request, argument);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /**
   * poll(2) on {@code count} struct pollfd (int fd, short events, short revents) at {@code fds};
   * returns how many are ready, 0 on timeout, or -errno.
   */
  public static int poll(MemorySegment fds, long count, int timeoutMillis) {
    var state = STATE.get();
    try {
      int result = (int) POLL.invokeExact(state, fds, count, timeoutMillis);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** eventfd(2); returns the descriptor or -errno. */
  public static int eventfd(int initial, int flags) {
    var state = STATE.get();
    try {
      int result = (int) EVENTFD.invokeExact(state, initial, flags);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Sets O_NONBLOCK on {@code fd}'s open file description; returns 0 or -errno. */
  public static int setNonBlocking(int fd) {
    var state = STATE.get();
    try {
      int flags = (int) FCNTL.invokeExact(state, fd, F_GETFL, 0);
      if (flags < 0) {
        return -errno(state);
      }
      int result = (int) FCNTL.invokeExact(state, fd, F_SETFL, flags | O_NONBLOCK);
      return result < 0 ? -errno(state) : 0;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int mount(String source, String target, String type, long flags, String data) {
    var state = STATE.get();
    try (var arena = Arena.ofConfined()) {
      int result =
          (int)
              MOUNT.invokeExact(
                  state,
                  arena.allocateFrom(source),
                  arena.allocateFrom(target),
                  arena.allocateFrom(type),
                  flags,
                  arena.allocateFrom(data));
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int umount2(String target, int flags) {
    var state = STATE.get();
    try (var arena = Arena.ofConfined()) {
      int result = (int) UMOUNT2.invokeExact(state, arena.allocateFrom(target), flags);
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Returns 0 if {@code stat(path)} succeeds, else {@code -errno} (ENOTCONN for a dead FUSE). */
  public static int statErrno(String path) {
    var state = STATE.get();
    try (var arena = Arena.ofConfined()) {
      int result =
          (int) STAT.invokeExact(state, arena.allocateFrom(path), arena.allocate(STAT_SIZE));
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /**
   * Returns 0 if {@code statfs(path)} succeeds, else {@code -errno}. Unlike stat, statfs always
   * asks the FUSE server, so a dead connection shows as ENOTCONN even while the kernel still holds
   * cached attributes of the mount's root.
   */
  public static int statfsErrno(String path) {
    var state = STATE.get();
    try (var arena = Arena.ofConfined()) {
      int result =
          (int) STATFS.invokeExact(state, arena.allocateFrom(path), arena.allocate(STATFS_SIZE));
      return result < 0 ? -errno(state) : result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** posix_fadvise returns the error number itself rather than setting errno. */
  public static int fadvise(int fd, long fileOffset, long length, int advice) {
    var state = STATE.get();
    try {
      int result = (int) FADVISE.invokeExact(state, fd, fileOffset, length, advice);
      return -result;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int getuid() {
    try {
      return (int) GETUID.invokeExact();
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int getgid() {
    try {
      return (int) GETGID.invokeExact();
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** The C library's text for an error number, e.g. "Transport endpoint is not connected". */
  public static String strerror(int errno) {
    try {
      var text = (MemorySegment) STRERROR.invokeExact(Math.abs(errno));
      return text.reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.UTF_8);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Copies raw bytes into a NUL-terminated C string. */
  public static MemorySegment cString(Arena arena, byte[] bytes) {
    var segment = arena.allocate(bytes.length + 1L);
    MemorySegment.copy(bytes, 0, segment, JAVA_BYTE, 0, bytes.length);
    return segment;
  }
}
