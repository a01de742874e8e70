package dev.lazypull.fuse;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;
import java.util.function.IntUnaryOperator;

/**
 * The io mode of each inode with open files, as the kernel holds it. Since Linux 6.9 the open files
 * of one inode are either all in page-cache mode or all passed through to one backing file; an open
 * answered in the other mode, or with a second backing file, fails in the opener with EIO
 * (fs/fuse/iomode.c). So each OPEN is answered in the mode its inode already has, whatever the
 * filesystem offers, and an inode takes the mode the filesystem offers only when it has no open
 * files left.
 *
 * <p>The counts can only run ahead of the kernel's, never behind: the kernel leaves a file's mode
 * before it sends that file's RELEASE, and enters it only when it reads the OPEN reply, which is
 * counted before it is sent.
 */
final class InodeIoModes {

  /** {@code opens} open files of one inode, passed through to {@code backingId}, or 0: cached. */
  private record Mode(int opens, int backingId) {}

  private final ConcurrentHashMap<Long, Mode> modes = new ConcurrentHashMap<>();
  private final IntUnaryOperator openBacking;
  private final IntConsumer closeBacking;

  /**
   * @param openBacking registers a file descriptor with the kernel; returns its backing id, or a
   *     value below 1 if the kernel refused
   * @param closeBacking unregisters a backing id
   */
  InodeIoModes(IntUnaryOperator openBacking, IntConsumer closeBacking) {
    this.openBacking = openBacking;
    this.closeBacking = closeBacking;
  }

  /**
   * Counts an open of {@code nodeId}; returns the backing id to answer it with, or 0 to answer it
   * in page-cache mode. {@code offeredFd} is the filesystem's backing file for it, or -1.
   */
  int open(long nodeId, int offeredFd) {
    Mode mode =
        modes.compute(
            nodeId,
            (id, held) -> {
              if (held != null) {
                return new Mode(held.opens() + 1, held.backingId());
              }
              int backingId = offeredFd >= 0 ? openBacking.applyAsInt(offeredFd) : 0;
              return new Mode(1, Math.max(backingId, 0));
            });
    return mode.backingId();
  }

  /** Counts a release of {@code nodeId}; the last one unregisters its backing file, if any. */
  void release(long nodeId) {
    modes.computeIfPresent(
        nodeId,
        (id, held) -> {
          if (held.opens() > 1) {
            return new Mode(held.opens() - 1, held.backingId());
          }
          if (held.backingId() > 0) {
            closeBacking.accept(held.backingId());
          }
          return null;
        });
  }

  /** How many inodes have open files (for tests). */
  int inodesWithOpenFiles() {
    return modes.size();
  }
}
