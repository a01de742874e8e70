package dev.lazypull.fuse.mirror;

import dev.lazypull.fuse.Errno;
import dev.lazypull.fuse.FuseException;
import dev.lazypull.fuse.OpenFile;
import dev.lazypull.fuse.Request;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The mirror with two test hooks: reads of {@link #failingIno} throw (a buggy callback), and reads
 * of {@link #slowIno} wait until the kernel interrupts them.
 */
final class ProbedMirror extends MirrorFilesystem {
  volatile long failingIno = -1;
  volatile long slowIno = -1;
  final CountDownLatch slowReadStarted = new CountDownLatch(1);
  final CountDownLatch slowReadInterrupted = new CountDownLatch(1);

  ProbedMirror(byte[] source) throws Posix.PosixException {
    super(source, false);
  }

  /**
   * The probed files bypass the page cache: earlier tests may have cached them, and a direct read
   * is a request the caller waits on (interruptible, unlike readahead).
   */
  @Override
  public OpenFile open(Request request, long ino, int flags) throws FuseException {
    var file = super.open(request, ino, flags);
    return ino == slowIno || ino == failingIno
        ? new OpenFile(file.handle(), false, true, -1)
        : file;
  }

  @Override
  public int read(
      Request request, long ino, long handle, long fileOffset, int size, MemorySegment into)
      throws FuseException {
    if (ino == failingIno) {
      throw new IllegalStateException("injected failure for inode " + ino);
    }
    if (ino == slowIno) {
      waitForInterrupt(request);
    }
    return super.read(request, ino, handle, fileOffset, size, into);
  }

  private void waitForInterrupt(Request request) throws FuseException {
    slowReadStarted.countDown();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (request.interrupted()) {
        slowReadInterrupted.countDown();
        throw new FuseException(Errno.EINTR);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new FuseException(Errno.EIO);
  }
}
