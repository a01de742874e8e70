package dev.lazypull.fuse;

import java.lang.foreign.MemorySegment;

/**
 * A read-only filesystem served through FUSE, addressed by inode number like libfuse's low-level
 * API. The root directory is inode {@link #ROOT_INODE}. Callbacks run on several worker threads at
 * once and must be thread-safe. A callback answers an expected failure by throwing {@link
 * FuseException} with an error number; anything else it throws becomes EIO and is logged once per
 * operation and exception class. Operations left at their defaults answer ENOSYS, which the kernel
 * remembers (for lseek it falls back to treating the file as all data).
 */
public interface FuseFilesystem {
  /** FUSE's fixed node id of the root directory. */
  long ROOT_INODE = 1;

  /** lseek whence values this interface may see besides SEEK_SET/SEEK_CUR/SEEK_END. */
  int SEEK_DATA = 3;

  int SEEK_HOLE = 4;

  /**
   * Resolves {@code name} (raw bytes, no NUL) in directory {@code parent}; counts one lookup. A
   * missing name is ENOENT, or {@link Entry#missing} to let the kernel cache its absence.
   */
  Entry lookup(Request request, long parent, byte[] name) throws FuseException;

  /** The kernel drops {@code lookups} references to {@code ino}; at zero it may be forgotten. */
  default void forget(long ino, long lookups) {}

  TimedAttributes getattr(Request request, long ino) throws FuseException;

  /** The target of a symbolic link, as raw bytes. */
  default byte[] readlink(Request request, long ino) throws FuseException {
    throw new FuseException(Errno.ENOSYS);
  }

  /** Opens a regular file; {@code flags} are the caller's open(2) flags. */
  OpenFile open(Request request, long ino, int flags) throws FuseException;

  /**
   * Reads up to {@code size} bytes at {@code fileOffset} into {@code into} starting at its offset
   * 0, and returns how many were read; fewer than asked means end of file. {@code into} is the
   * worker's reused reply buffer: write only within {@code [0, size)} and do not keep it.
   */
  int read(Request request, long ino, long handle, long fileOffset, int size, MemorySegment into)
      throws FuseException;

  /** The last close of an open file. */
  default void release(long ino, long handle) {}

  default OpenFile opendir(Request request, long ino, int flags) throws FuseException {
    return OpenFile.cached(0);
  }

  /**
   * True when a directory needs no open state: {@link #opendir} is never called, and {@link
   * #readdir} gets handle 0. The kernel is then told that OPENDIR is not implemented; from then on
   * it opens directories itself with their listings cached ({@code FOPEN_KEEP_CACHE |
   * FOPEN_CACHE_DIR}, its default for a server without opendir) and sends neither OPENDIR nor
   * RELEASEDIR: a walk of a cached tree needs no request at all instead of two per directory.
   */
  default boolean statelessDirectories() {
    return false;
  }

  /**
   * Lists directory entries from {@code offset} (0 = the start, else a {@code nextOffset} given
   * earlier) until {@code filler} is full or the directory ends.
   */
  void readdir(Request request, long ino, long handle, long offset, DirectoryFiller filler)
      throws FuseException;

  default void releasedir(long ino, long handle) {}

  default FilesystemStats statfs(Request request, long ino) throws FuseException {
    return FilesystemStats.readOnly(0, 0);
  }

  /** The value of extended attribute {@code name}; ENODATA if absent. */
  default byte[] getxattr(Request request, long ino, byte[] name) throws FuseException {
    throw new FuseException(Errno.ENODATA);
  }

  /** The extended attribute names of {@code ino}, each followed by a NUL byte. */
  default byte[] listxattr(Request request, long ino) throws FuseException {
    return new byte[0];
  }

  /** Checks access(2) {@code mask} (R_OK=4, W_OK=2, X_OK=1); returns normally if allowed. */
  default void access(Request request, long ino, int mask) throws FuseException {}

  /**
   * Finds the next data ({@link #SEEK_DATA}) or hole ({@link #SEEK_HOLE}) at or after {@code
   * fileOffset}; ENXIO past the end. The kernel handles SEEK_SET/CUR/END itself.
   */
  default long lseek(Request request, long ino, long handle, long fileOffset, int whence)
      throws FuseException {
    throw new FuseException(Errno.ENOSYS);
  }

  /** The connection ends: unmounted, or the kernel sent DESTROY. Called once. */
  default void destroy() {}
}
