package dev.lazypull.fuse;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.function.IntPredicate;

/** Answers the kernel's INIT: protocol version, features and limits. */
final class InitNegotiation {
  /** Features asked for whenever the kernel offers them. */
  private static final long WANTED =
      Protocol.ASYNC_READ
          | Protocol.BIG_WRITES
          | Protocol.DO_READDIRPLUS
          | Protocol.ASYNC_DIO
          | Protocol.PARALLEL_DIROPS
          | Protocol.MAX_PAGES
          | Protocol.CACHE_SYMLINKS
          | Protocol.INIT_EXT;

  /** Requests the kernel may run in the background (readahead) at once. */
  private static final short MAX_BACKGROUND = 64;

  private InitNegotiation() {}

  /**
   * Reads struct fuse_init_in from {@code initIn}, writes struct fuse_init_out into {@code body}
   * and sends it with {@code sender}; returns the flags both sides agreed on.
   */
  static long answer(
      MemorySegment initIn,
      MemorySegment body,
      int maxWrite,
      boolean wantPassthrough,
      IntPredicate sender)
      throws IOException {
    int kernelMajor = initIn.get(JAVA_INT_UNALIGNED, 0);
    int kernelMinor = initIn.get(JAVA_INT_UNALIGNED, 4);
    int maxReadahead = initIn.get(JAVA_INT_UNALIGNED, 8);
    long offered = Integer.toUnsignedLong(initIn.get(JAVA_INT_UNALIGNED, 12));
    if (kernelMajor != Protocol.KERNEL_MAJOR) {
      throw new IOException(
          "the kernel speaks FUSE " + kernelMajor + "." + kernelMinor + "; only 7.x is supported");
    }
    // flags2 (bits 32..63) exist only when the kernel sets FUSE_INIT_EXT.
    if ((offered & Protocol.INIT_EXT) != 0) {
      offered |= Integer.toUnsignedLong(initIn.get(JAVA_INT_UNALIGNED, 16)) << 32;
    }
    long wanted = WANTED | (wantPassthrough ? Protocol.PASSTHROUGH : 0);
    long agreed = offered & wanted;

    body.asSlice(0, Protocol.INIT_OUT_SIZE).fill((byte) 0);
    body.set(JAVA_INT_UNALIGNED, 0, Protocol.KERNEL_MAJOR);
    body.set(JAVA_INT_UNALIGNED, 4, Math.min(kernelMinor, Protocol.SERVER_MINOR));
    body.set(JAVA_INT_UNALIGNED, 8, Math.min(maxReadahead, maxWrite));
    body.set(JAVA_INT_UNALIGNED, 12, (int) agreed);
    body.set(JAVA_SHORT_UNALIGNED, 16, MAX_BACKGROUND);
    body.set(JAVA_SHORT_UNALIGNED, 18, (short) (MAX_BACKGROUND * 3 / 4));
    body.set(JAVA_INT_UNALIGNED, 20, maxWrite);
    body.set(JAVA_INT_UNALIGNED, 24, 1); // time_gran: nanosecond timestamps
    body.set(JAVA_SHORT_UNALIGNED, 28, (short) (maxWrite / 4096)); // max_pages
    body.set(JAVA_INT_UNALIGNED, 32, (int) (agreed >>> 32));
    // max_stack_depth: backing files may live on a plain filesystem (depth 0) only.
    body.set(JAVA_INT_UNALIGNED, 36, (agreed & Protocol.PASSTHROUGH) != 0 ? 1 : 0);
    if (!sender.test(Protocol.INIT_OUT_SIZE)) {
      throw new IOException("the kernel refused the FUSE INIT reply");
    }
    return agreed;
  }
}
