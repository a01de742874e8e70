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
 *     transport registers it with the kernel only if the inode has no other open files; otherwise
 *     the open takes the mode the inode already has (the kernel allows no mix): passed through to
 *     the backing file of the inode's first open, or not at all. Reads of an open that is not
 *     passed through come to the filesystem as usual, so the filesystem must be able to serve them
 *     either way, and an open offered no descriptor may still be passed through.
 * @param transportClosesFd whether the transport closes {@code passthroughFd} once it has answered
 *     the open (the kernel keeps its own reference to a registered backing file); if false, the
 *     filesystem keeps owning the descriptor and closes it after release
 */
public record OpenFile(
    long handle,
    boolean keepCache,
    boolean directIo,
    int passthroughFd,
    boolean transportClosesFd) {

  /** An open file answered with a descriptor the filesystem keeps owning, or none (-1). */
  public OpenFile(long handle, boolean keepCache, boolean directIo, int passthroughFd) {
    this(handle, keepCache, directIo, passthroughFd, false);
  }

  /** An open file whose page cache survives across opens: right for immutable content. */
  public static OpenFile cached(long handle) {
    return new OpenFile(handle, true, false, -1);
  }

  /**
   * An open file the kernel reads from {@code fd} directly where it can; if it cannot, the page
   * cache is kept as by {@link #cached}. The filesystem closes {@code fd} after release.
   */
  public static OpenFile passthrough(long handle, int fd) {
    return new OpenFile(handle, true, false, fd);
  }

  /**
   * As {@link #passthrough}, for a filesystem that needs the descriptor only to answer the open:
   * the transport closes it right after, so that open files hold no descriptor of the server's.
   */
  public static OpenFile passthroughClosingFd(long handle, int fd) {
    return new OpenFile(handle, true, false, fd, true);
  }
}
