package dev.lazypull.fuse;

/**
 * How to mount and serve a filesystem.
 *
 * @param source the filesystem name /proc/mounts shows in its first column
 * @param subtype the type /proc/mounts shows is {@code fuse.<subtype>}
 * @param allowOther let users other than the mounter use the mount
 * @param workers threads reading requests, each on its own cloned /dev/fuse descriptor
 * @param passthrough ask the kernel for passthrough, so {@link OpenFile#passthroughFd()} works
 * @param maxWrite bytes per request the kernel may send or ask for at most (read size too)
 * @param defaultPermissions let the kernel check file modes against the caller, as for a disk
 *     filesystem; without it, anyone allowed into the mount can read every file
 */
public record MountOptions(
    String source,
    String subtype,
    boolean allowOther,
    int workers,
    boolean passthrough,
    int maxWrite,
    boolean defaultPermissions) {

  public MountOptions {
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be at least 1, got " + workers);
    }
    if (maxWrite < 4096 || maxWrite % 4096 != 0) {
      throw new IllegalArgumentException("maxWrite must be a multiple of 4096, got " + maxWrite);
    }
  }

  /** Four workers, 1 MiB requests, allow_other, default_permissions, passthrough requested. */
  public static MountOptions defaults(String source, String subtype) {
    return new MountOptions(source, subtype, true, 4, true, 1 << 20, true);
  }

  public MountOptions withWorkers(int count) {
    return new MountOptions(
        source, subtype, allowOther, count, passthrough, maxWrite, defaultPermissions);
  }

  public MountOptions withPassthrough(boolean enabled) {
    return new MountOptions(
        source, subtype, allowOther, workers, enabled, maxWrite, defaultPermissions);
  }
}
