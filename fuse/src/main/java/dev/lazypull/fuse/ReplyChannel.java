package dev.lazypull.fuse;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import dev.lazypull.fuse.linux.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's reusable reply buffer: struct fuse_out_header followed by the body, sent with one
 * write(2) on the worker's descriptor.
 */
final class ReplyChannel {
  private static final Logger LOG = LoggerFactory.getLogger(ReplyChannel.class);

  private final int fd;
  private final MemorySegment out;
  private final MemorySegment body;

  ReplyChannel(int fd, int maxBody, Arena arena) {
    this.fd = fd;
    this.out = arena.allocate(Protocol.OUT_HEADER_SIZE + maxBody, 4096);
    this.body = out.asSlice(Protocol.OUT_HEADER_SIZE);
  }

  /** Where callers write the reply body before {@link #send}. */
  MemorySegment body() {
    return body;
  }

  /** Sends the header and {@code bodyLength} bytes of body; false if the kernel refused. */
  boolean send(long unique, int bodyLength) {
    return write(unique, 0, Protocol.OUT_HEADER_SIZE + bodyLength);
  }

  boolean sendBytes(long unique, byte[] bytes) {
    MemorySegment.copy(bytes, 0, body, JAVA_BYTE, 0, bytes.length);
    return send(unique, bytes.length);
  }

  /** Answers with an error only: the header carries {@code -errno}. */
  void sendError(long unique, int errno) {
    write(unique, -errno, Protocol.OUT_HEADER_SIZE);
  }

  private boolean write(long unique, int error, long length) {
    out.set(JAVA_INT_UNALIGNED, 0, (int) length);
    out.set(JAVA_INT_UNALIGNED, 4, error);
    out.set(JAVA_LONG_UNALIGNED, 8, unique);
    long written = Libc.write(fd, out, length);
    if (written >= 0) {
      return true;
    }
    // ENOENT: the request was interrupted and already finished by the kernel; ENODEV: the
    // connection is gone. Neither is news worth a log line.
    if (written != -Errno.ENOENT && written != -Errno.ENODEV) {
      LOG.warn("FUSE worker: writing a reply failed: {}", Libc.strerror((int) -written));
    }
    return false;
  }
}
