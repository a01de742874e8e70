package dev.lazypull.fs.tree;

/** A character device, block device or fifo. */
public final class SpecialNode extends Node {
  private final int fileTypeBits;
  private final long rdev;

  SpecialNode(LayerEntry entry) {
    super(entry.type().fileTypeBits(), 0, 0);
    this.fileTypeBits = entry.type().fileTypeBits();
    this.rdev = encodeDevice(entry.devMajor(), entry.devMinor());
    setMetadata(entry);
  }

  /** The kernel's {@code new_encode_dev}, which is what FUSE attributes carry. */
  static long encodeDevice(int major, int minor) {
    return (minor & 0xffL) | ((major & 0xfffL) << 8) | ((minor & ~0xffL) << 12);
  }

  @Override
  int fileTypeBits() {
    return fileTypeBits;
  }

  @Override
  public long rdev() {
    return rdev;
  }

  @Override
  public long size() {
    return 0;
  }

  @Override
  public long blocks() {
    return 0;
  }

  @Override
  public int linkCount() {
    return linkCount;
  }
}
