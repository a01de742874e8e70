package dev.lazypull.fuse;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;

/** Packs struct fuse_dirent or fuse_direntplus records, 8-byte aligned, into a reply body. */
final class DirectoryBuffer implements DirectoryFiller {
  private final MemorySegment body;
  private boolean plus;
  private int limit;
  private int used;

  DirectoryBuffer(MemorySegment body) {
    this.body = body;
  }

  void reset(boolean wantPlus, int sizeLimit) {
    this.plus = wantPlus;
    this.limit = (int) Math.min(sizeLimit, body.byteSize());
    this.used = 0;
  }

  int used() {
    return used;
  }

  @Override
  public boolean plus() {
    return plus;
  }

  @Override
  public boolean add(byte[] name, long ino, int mode, long nextOffset) {
    int headerSize = plus ? Protocol.ENTRY_OUT_SIZE : 0;
    int recordSize = headerSize + align8(Protocol.DIRENT_SIZE + name.length);
    if (used + recordSize > limit) {
      return false;
    }
    if (plus) {
      // A zero node id tells the kernel to list the name without creating an inode for it.
      body.asSlice(used, headerSize).fill((byte) 0);
    }
    writeDirent(used + headerSize, name, ino, mode, nextOffset, recordSize - headerSize);
    used += recordSize;
    return true;
  }

  @Override
  public boolean addEntry(byte[] name, Entry entry, long nextOffset) {
    var attributes = entry.attributes();
    if (entry.isMissing()) {
      throw new IllegalArgumentException("a missing entry cannot be listed in a directory");
    }
    if (!plus) {
      return add(name, attributes.ino(), attributes.mode(), nextOffset);
    }
    int recordSize = Protocol.ENTRY_OUT_SIZE + align8(Protocol.DIRENT_SIZE + name.length);
    if (used + recordSize > limit) {
      return false;
    }
    AttributesWriter.writeEntry(body, used, entry);
    writeDirent(
        used + Protocol.ENTRY_OUT_SIZE,
        name,
        attributes.ino(),
        attributes.mode(),
        nextOffset,
        recordSize - Protocol.ENTRY_OUT_SIZE);
    used += recordSize;
    return true;
  }

  private void writeDirent(
      long at, byte[] name, long ino, int mode, long nextOffset, int paddedSize) {
    body.set(JAVA_LONG_UNALIGNED, at, ino);
    body.set(JAVA_LONG_UNALIGNED, at + 8, nextOffset);
    body.set(JAVA_INT_UNALIGNED, at + 16, name.length);
    body.set(JAVA_INT_UNALIGNED, at + 20, Attributes.directoryEntryType(mode));
    MemorySegment.copy(name, 0, body, JAVA_BYTE, at + Protocol.DIRENT_SIZE, name.length);
    long padStart = at + Protocol.DIRENT_SIZE + name.length;
    body.asSlice(padStart, at + paddedSize - padStart).fill((byte) 0);
  }

  private static int align8(int size) {
    return (size + 7) & ~7;
  }
}
