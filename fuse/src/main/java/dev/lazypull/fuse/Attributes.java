package dev.lazypull.fuse;

/**
 * What {@code stat} shows for an inode, as the kernel's {@code struct fuse_attr} carries it.
 *
 * @param ino the inode number {@code stat} shows; also the FUSE node id in {@link Entry}
 * @param size bytes
 * @param blocks 512-byte blocks allocated
 * @param mode file type and permission bits, as in {@code st_mode}
 * @param rdev device number of a character or block device, in the kernel's new encoding
 * @param blksize preferred I/O size; 0 lets the kernel choose
 */
public record Attributes(
    long ino,
    long size,
    long blocks,
    long atimeSeconds,
    int atimeNanos,
    long mtimeSeconds,
    int mtimeNanos,
    long ctimeSeconds,
    int ctimeNanos,
    int mode,
    int nlink,
    int uid,
    int gid,
    int rdev,
    int blksize) {

  /** The file type bits of {@link #mode}. */
  public static final int S_IFMT = 0170000;

  public static final int S_IFDIR = 0040000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFLNK = 0120000;

  /** The {@code d_type} value of a directory entry for this mode, as readdir reports it. */
  public static int directoryEntryType(int mode) {
    return (mode & S_IFMT) >>> 12;
  }
}
