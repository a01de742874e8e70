package dev.lazypull.fuse;

/** The answer to statfs, as {@code struct statvfs} shows it; block counts in {@code blockSize}. */
public record FilesystemStats(
    long blocks,
    long blocksFree,
    long blocksAvailable,
    long files,
    long filesFree,
    int blockSize,
    int maxNameLength,
    int fragmentSize) {

  /** A full read-only filesystem: nothing free. */
  public static FilesystemStats readOnly(long blocks, long files) {
    return new FilesystemStats(blocks, 0, 0, files, 0, 4096, 255, 4096);
  }
}
