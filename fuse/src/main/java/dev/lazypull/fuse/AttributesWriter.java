package dev.lazypull.fuse;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.time.Duration;

/** Encodes attributes and entries into the kernel's structs. */
final class AttributesWriter {
  private AttributesWriter() {}

  /** Writes struct fuse_attr at {@code at}. */
  static void writeAttr(MemorySegment out, long at, Attributes a) {
    out.set(JAVA_LONG_UNALIGNED, at, a.ino());
    out.set(JAVA_LONG_UNALIGNED, at + 8, a.size());
    out.set(JAVA_LONG_UNALIGNED, at + 16, a.blocks());
    out.set(JAVA_LONG_UNALIGNED, at + 24, a.atimeSeconds());
    out.set(JAVA_LONG_UNALIGNED, at + 32, a.mtimeSeconds());
    out.set(JAVA_LONG_UNALIGNED, at + 40, a.ctimeSeconds());
    out.set(JAVA_INT_UNALIGNED, at + 48, a.atimeNanos());
    out.set(JAVA_INT_UNALIGNED, at + 52, a.mtimeNanos());
    out.set(JAVA_INT_UNALIGNED, at + 56, a.ctimeNanos());
    out.set(JAVA_INT_UNALIGNED, at + 60, a.mode());
    out.set(JAVA_INT_UNALIGNED, at + 64, a.nlink());
    out.set(JAVA_INT_UNALIGNED, at + 68, a.uid());
    out.set(JAVA_INT_UNALIGNED, at + 72, a.gid());
    out.set(JAVA_INT_UNALIGNED, at + 76, a.rdev());
    out.set(JAVA_INT_UNALIGNED, at + 80, a.blksize());
    out.set(JAVA_INT_UNALIGNED, at + 84, 0);
  }

  /** Writes struct fuse_entry_out at {@code at}. */
  static void writeEntry(MemorySegment out, long at, Entry e) {
    out.set(JAVA_LONG_UNALIGNED, at, e.attributes().ino());
    out.set(JAVA_LONG_UNALIGNED, at + 8, e.generation());
    writeTimeout(out, at + 16, at + 32, e.entryTimeout());
    writeTimeout(out, at + 24, at + 36, e.attributesTimeout());
    writeAttr(out, at + 40, e.attributes());
  }

  /** Writes struct fuse_attr_out at {@code at}. */
  static void writeAttrOut(MemorySegment out, long at, TimedAttributes t) {
    writeTimeout(out, at, at + 8, t.timeout());
    out.set(JAVA_INT_UNALIGNED, at + 12, 0);
    writeAttr(out, at + 16, t.attributes());
  }

  private static void writeTimeout(
      MemorySegment out, long secondsAt, long nanosAt, Duration timeout) {
    out.set(JAVA_LONG_UNALIGNED, secondsAt, Math.max(0, timeout.getSeconds()));
    out.set(JAVA_INT_UNALIGNED, nanosAt, timeout.isNegative() ? 0 : timeout.getNano());
  }
}
