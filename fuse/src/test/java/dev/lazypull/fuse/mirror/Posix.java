package dev.lazypull.fuse.mirror;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.lazypull.fuse.linux.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * lstat, readlink and directory listing on raw-byte paths, through FFM. Java's Path API decodes
 * names as UTF-8 and mangles the rest, so the mirror and the tests use these instead.
 */
public final class Posix {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
  private static final VarHandle ERRNO_VALUE =
      Linker.Option.captureStateLayout().varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle LSTAT = bind("lstat", JAVA_INT, ADDRESS, ADDRESS);
  private static final MethodHandle READLINK =
      bind("readlink", JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
  private static final MethodHandle OPENDIR = bind("opendir", ADDRESS, ADDRESS);
  private static final MethodHandle READDIR = bind("readdir", ADDRESS, ADDRESS);
  private static final MethodHandle CLOSEDIR = bind("closedir", JAVA_INT, ADDRESS);
  private static final MethodHandle LGETXATTR =
      bind("lgetxattr", JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG);
  private static final MethodHandle LLISTXATTR =
      bind("llistxattr", JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
  private static final MethodHandle MKNOD = bind("mknod", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG);

  /** glibc's x86-64 struct stat is 144 bytes. */
  private static final long STAT_SIZE = 144;

  /** d_name's offset in glibc's struct dirent (d_ino, d_off, d_reclen, d_type). */
  private static final long DIRENT_NAME = 19;

  private Posix() {}

  private static MethodHandle bind(String name, MemoryLayout result, MemoryLayout... args) {
    return LINKER.downcallHandle(
        LINKER.defaultLookup().findOrThrow(name), FunctionDescriptor.of(result, args), ERRNO);
  }

  /** What lstat(2) says, with st_rdev in glibc's encoding. */
  public record Stat(
      long dev,
      long ino,
      long nlink,
      int mode,
      int uid,
      int gid,
      long rdev,
      long size,
      long blksize,
      long blocks,
      long atimeSeconds,
      long atimeNanos,
      long mtimeSeconds,
      long mtimeNanos,
      long ctimeSeconds,
      long ctimeNanos) {

    public boolean isDirectory() {
      return (mode & 0170000) == 0040000;
    }

    public boolean isRegular() {
      return (mode & 0170000) == 0100000;
    }
  }

  /** Thrown with the errno of a failed call. */
  public static final class PosixException extends Exception {
    private static final long serialVersionUID = 1L;
    public final int errno;

    PosixException(String call, int errno) {
      super(call + ": " + Libc.strerror(errno), null, false, false);
      this.errno = errno;
    }
  }

  /** Per-thread scratch for lstat: errno capture, a PATH_MAX path and a struct stat. */
  private record StatScratch(MemorySegment state, MemorySegment path, MemorySegment buffer) {}

  private static final ThreadLocal<StatScratch> STAT_SCRATCH =
      ThreadLocal.withInitial(
          () -> {
            var arena = Arena.ofAuto();
            return new StatScratch(
                arena.allocate(Linker.Option.captureStateLayout()),
                arena.allocate(4097),
                arena.allocate(STAT_SIZE, 8));
          });

  public static Stat lstat(byte[] path) throws PosixException {
    var scratch = STAT_SCRATCH.get();
    if (path.length >= scratch.path().byteSize()) {
      throw new PosixException("lstat", 36); // ENAMETOOLONG
    }
    MemorySegment.copy(path, 0, scratch.path(), JAVA_BYTE, 0, path.length);
    scratch.path().set(JAVA_BYTE, path.length, (byte) 0);
    var buf = scratch.buffer();
    int result;
    try {
      result = (int) LSTAT.invokeExact(scratch.state(), scratch.path(), buf);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    if (result < 0) {
      throw new PosixException("lstat", (int) ERRNO_VALUE.get(scratch.state(), 0L));
    }
    return new Stat(
        buf.get(JAVA_LONG, 0),
        buf.get(JAVA_LONG, 8),
        buf.get(JAVA_LONG, 16),
        buf.get(JAVA_INT, 24),
        buf.get(JAVA_INT, 28),
        buf.get(JAVA_INT, 32),
        buf.get(JAVA_LONG, 40),
        buf.get(JAVA_LONG, 48),
        buf.get(JAVA_LONG, 56),
        buf.get(JAVA_LONG, 64),
        buf.get(JAVA_LONG, 72),
        buf.get(JAVA_LONG, 80),
        buf.get(JAVA_LONG, 88),
        buf.get(JAVA_LONG, 96),
        buf.get(JAVA_LONG, 104),
        buf.get(JAVA_LONG, 112));
  }

  public static byte[] readlink(byte[] path) throws PosixException {
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(Linker.Option.captureStateLayout());
      var buf = arena.allocate(4096);
      long length = (long) READLINK.invokeExact(state, Libc.cString(arena, path), buf, 4096L);
      if (length < 0) {
        throw new PosixException("readlink", (int) ERRNO_VALUE.get(state, 0L));
      }
      return buf.asSlice(0, length).toArray(JAVA_BYTE);
    } catch (PosixException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Every name in a directory, "." and ".." included, in the order readdir gives them. */
  public static List<byte[]> list(byte[] path) throws PosixException {
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(Linker.Option.captureStateLayout());
      var dir = (MemorySegment) OPENDIR.invokeExact(state, Libc.cString(arena, path));
      if (dir.equals(MemorySegment.NULL)) {
        throw new PosixException("opendir", (int) ERRNO_VALUE.get(state, 0L));
      }
      var names = new ArrayList<byte[]>();
      try {
        while (true) {
          var entry = (MemorySegment) READDIR.invokeExact(state, dir);
          if (entry.equals(MemorySegment.NULL)) {
            break;
          }
          var record = entry.reinterpret(DIRENT_NAME + 256);
          int reclen = Short.toUnsignedInt(record.get(JAVA_SHORT, 16));
          var nameArea = record.asSlice(DIRENT_NAME, Math.min(256, reclen - DIRENT_NAME));
          long length = 0;
          while (nameArea.get(JAVA_BYTE, length) != 0) {
            length++;
          }
          names.add(nameArea.asSlice(0, length).toArray(JAVA_BYTE));
        }
      } finally {
        int closed = (int) CLOSEDIR.invokeExact(state, dir);
        if (closed < 0) {
          throw new PosixException("closedir", (int) ERRNO_VALUE.get(state, 0L));
        }
      }
      return names;
    } catch (PosixException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** The value of extended attribute {@code name} of {@code path} (not following a symlink). */
  public static byte[] getxattr(byte[] path, byte[] name) throws PosixException {
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(Linker.Option.captureStateLayout());
      var value = arena.allocate(65536);
      long length =
          (long)
              LGETXATTR.invokeExact(
                  state, Libc.cString(arena, path), Libc.cString(arena, name), value, 65536L);
      if (length < 0) {
        throw new PosixException("lgetxattr", (int) ERRNO_VALUE.get(state, 0L));
      }
      return value.asSlice(0, length).toArray(JAVA_BYTE);
    } catch (PosixException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** The extended attribute names of {@code path}, each ending in NUL, as llistxattr(2) gives. */
  public static byte[] listxattr(byte[] path) throws PosixException {
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(Linker.Option.captureStateLayout());
      var names = arena.allocate(65536);
      long length = (long) LLISTXATTR.invokeExact(state, Libc.cString(arena, path), names, 65536L);
      if (length < 0) {
        throw new PosixException("llistxattr", (int) ERRNO_VALUE.get(state, 0L));
      }
      return names.asSlice(0, length).toArray(JAVA_BYTE);
    } catch (PosixException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** mknod(2) with a glibc-encoded device number. */
  public static void mknod(byte[] path, int mode, long device) throws PosixException {
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(Linker.Option.captureStateLayout());
      int result = (int) MKNOD.invokeExact(state, Libc.cString(arena, path), mode, device);
      if (result < 0) {
        throw new PosixException("mknod", (int) ERRNO_VALUE.get(state, 0L));
      }
    } catch (PosixException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** glibc's makedev. */
  public static long makedev(long major, long minor) {
    return ((major & 0xfffff000L) << 32)
        | ((major & 0xfffL) << 8)
        | ((minor & 0xffffff00L) << 12)
        | (minor & 0xffL);
  }

  /** The kernel's 32-bit "new" device encoding that struct fuse_attr carries. */
  public static int kernelDevice(long glibcDevice) {
    long major = ((glibcDevice >>> 8) & 0xfff) | ((glibcDevice >>> 32) & ~0xfffL);
    long minor = (glibcDevice & 0xff) | ((glibcDevice >>> 12) & ~0xffL);
    return (int) ((minor & 0xff) | (major << 8) | ((minor & ~0xffL) << 12));
  }
}
