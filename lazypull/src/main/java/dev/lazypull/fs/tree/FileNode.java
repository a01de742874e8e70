package dev.lazypull.fs.tree;

/** A regular file: where its bytes sit in which layer's uncompressed tar. */
public final class FileNode extends Node {
  private final int layerIndex;
  private final long uncompressedOffset;
  private final long size;

  FileNode(LayerEntry entry, int layerIndex) {
    super(entry);
    this.layerIndex = layerIndex;
    this.uncompressedOffset = entry.uncompressedOffset();
    this.size = entry.size();
  }

  @Override
  int fileTypeBits() {
    return 0100000;
  }

  /** Which layer of the image holds the bytes, counted from the bottom. */
  public int layerIndex() {
    return layerIndex;
  }

  /** Where the file's data starts in its layer's uncompressed tar stream. */
  public long uncompressedOffset() {
    return uncompressedOffset;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public int linkCount() {
    return linkCount;
  }
}
