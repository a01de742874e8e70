package dev.lazypull.fuse;

/**
 * An expected failure a callback answers with, such as ENOENT for a missing name. Thrown without a
 * stack trace: it is control flow, not a bug. Anything else a callback throws is a bug, becomes EIO
 * and is logged.
 */
public final class FuseException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int errno;

  public FuseException(int errno) {
    super(null, null, false, false);
    this.errno = errno;
  }

  /** The positive error number the caller of the system call sees. */
  public int errno() {
    return errno;
  }

  @Override
  public String getMessage() {
    return "errno " + errno;
  }
}
