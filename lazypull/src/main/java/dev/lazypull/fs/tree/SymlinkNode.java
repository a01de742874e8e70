package dev.lazypull.fs.tree;

/** A symbolic link; its size is the length of its target, as on any Linux filesystem. */
public final class SymlinkNode extends Node {
  private final byte[] target;

  SymlinkNode(LayerEntry entry) {
    super(entry);
    this.target = entry.linkName().clone();
  }

  @Override
  int fileTypeBits() {
    return 0120000;
  }

  /** The target as raw bytes; callers must not change them. */
  public byte[] target() {
    return target;
  }

  @Override
  public long size() {
    return target.length;
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
