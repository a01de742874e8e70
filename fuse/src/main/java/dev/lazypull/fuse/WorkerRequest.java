package dev.lazypull.fuse;

/** The one mutable {@link Request} a worker reuses for every request it serves. */
final class WorkerRequest implements Request {
  private volatile long unique;
  private volatile boolean interrupted;
  private int uid;
  private int gid;
  private int pid;

  void begin(long requestUnique, int callerUid, int callerGid, int callerPid) {
    this.interrupted = false;
    this.uid = callerUid;
    this.gid = callerGid;
    this.pid = callerPid;
    this.unique = requestUnique;
  }

  void end() {
    this.unique = 0;
  }

  /** Marks this request interrupted if it is the one the kernel names; true if it was. */
  boolean interruptIf(long targetUnique) {
    if (unique != targetUnique) {
      return false;
    }
    interrupted = true;
    return true;
  }

  @Override
  public long unique() {
    return unique;
  }

  @Override
  public int uid() {
    return uid;
  }

  @Override
  public int gid() {
    return gid;
  }

  @Override
  public int pid() {
    return pid;
  }

  @Override
  public boolean interrupted() {
    return interrupted;
  }
}
