package dev.lazypull.fuse;

/**
 * The request a callback is serving. The object is reused by its worker thread: it is valid only
 * during the callback and must not be kept.
 */
public interface Request {
  /** The kernel's id of this request. */
  long unique();

  /** The caller's user id. */
  int uid();

  /** The caller's group id. */
  int gid();

  /** The caller's process id. */
  int pid();

  /**
   * True once the kernel has asked to interrupt this request (the caller got a signal). A slow
   * callback may poll this and give up by throwing {@code new FuseException(Errno.EINTR)}.
   */
  boolean interrupted();
}
