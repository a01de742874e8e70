package dev.lazypull.fuse;

/**
 * The answer to open or opendir.
 *
 * @param handle any number the filesystem likes; it comes back with every read and the release
 * @param keepCache keep the kernel's page cache from earlier opens ({@code FOPEN_KEEP_CACHE});
 *     right for immutable files
 * @param directIo bypass the page cache: every read reaches the filesystem ({@code
 *     FOPEN_DIRECT_IO})
 * @param passthroughFd a local file descriptor whose bytes the kernel may read directly, or -1. The
 *     filesystem keeps owning the descriptor (closes it after release). The transport registers it
 *     with the kernel only if the inode has no other open files; otherwise the open takes the mode
 *     the inode already has (the kernel allows no mix): passed through to the backing file of the
 *     inode's first open, or not at all. Reads of an open that is not passed through come to the
 *     filesystem as usual, so the filesystem must be able to serve them either way, and an open
 *     offered no descriptor may still be passed through.
 */
public record OpenFile(long handle, boolean keepCache, boolean directIo, int passthroughFd) {

  /** An open file whose page cache survives across opens: right for immutable content. */
  public static OpenFile cached(long handle) {
    return new OpenFile(handle, true, false, -1);
  }

  /**
   * An open file the kernel reads from {@code fd} directly where it can; if it cannot, the page
   * cache is kept as by {@link #cached}.
   */
  public static OpenFile passthrough(long handle, int fd) {
    return new OpenFile(handle, true, false, fd);
  }
}
