package dev.lazypull.fs.tree;

/** The tar entry types a layer's index can hold. */
public enum EntryType {
  REGULAR(0100000),
  DIRECTORY(0040000),
  SYMLINK(0120000),
  HARDLINK(0100000),
  CHAR_DEVICE(0020000),
  BLOCK_DEVICE(0060000),
  FIFO(0010000);

  private final int fileTypeBits;

  EntryType(int fileTypeBits) {
    this.fileTypeBits = fileTypeBits;
  }

  /** The {@code S_IFMT} bits of a node of this type (a hardlink takes its target's). */
  public int fileTypeBits() {
    return fileTypeBits;
  }
}
