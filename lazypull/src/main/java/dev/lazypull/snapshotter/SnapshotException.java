package dev.lazypull.snapshotter;

/** A snapshot operation refused; {@link Reason} says which gRPC status containerd should see. */
public final class SnapshotException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why the operation was refused. */
  public enum Reason {
    NOT_FOUND,
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    INVALID_ARGUMENT,
    /** A remote layer cannot be served now (registry down); a later call may succeed. */
    UNAVAILABLE
  }

  private final Reason reason;

  public SnapshotException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  static SnapshotException notFound(String what) {
    return new SnapshotException(Reason.NOT_FOUND, what + " not found");
  }

  static SnapshotException alreadyExists(String key) {
    return new SnapshotException(Reason.ALREADY_EXISTS, "snapshot " + key + " already exists");
  }
}
