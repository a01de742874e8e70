package dev.lazypull.fs.tree;

import java.util.Map;

/**
 * One inode of the merged tree. Several paths may share a node (hardlinks). Metadata is mutable
 * only while the tree is being built; a built {@link MergedTree} is read-only.
 */
public abstract sealed class Node permits DirectoryNode, FileNode, SymlinkNode, SpecialNode {
  static final int PERMISSION_BITS = 07777;

  private long inode;
  private int mode;
  private int uid;
  private int gid;
  private long mtimeSeconds;
  private int mtimeNanos;
  private Map<String, byte[]> xattrs;
  int linkCount;

  Node(LayerEntry entry) {
    this.xattrs = Map.of();
    setMetadata(entry);
  }

  Node(int mode, int uid, int gid) {
    this.mode = mode;
    this.uid = uid;
    this.gid = gid;
    this.xattrs = Map.of();
  }

  final void setMetadata(LayerEntry entry) {
    // Linux symlinks always show 0777, whatever mode the tar header gave them.
    int permissions = this instanceof SymlinkNode ? 0777 : entry.mode() & PERMISSION_BITS;
    this.mode = fileTypeBits() | permissions;
    this.uid = entry.uid();
    this.gid = entry.gid();
    this.mtimeSeconds = entry.mtimeSeconds();
    this.mtimeNanos = entry.mtimeNanos();
    this.xattrs = entry.xattrs().isEmpty() ? Map.of() : Map.copyOf(entry.xattrs());
  }

  abstract int fileTypeBits();

  void setInode(long inode) {
    this.inode = inode;
  }

  public long inode() {
    return inode;
  }

  /** The full {@code st_mode}: file-type bits and permission bits. */
  public int mode() {
    return mode;
  }

  public int uid() {
    return uid;
  }

  public int gid() {
    return gid;
  }

  public long mtimeSeconds() {
    return mtimeSeconds;
  }

  public int mtimeNanos() {
    return mtimeNanos;
  }

  /** Extended attributes by name; values are raw bytes. */
  public Map<String, byte[]> xattrs() {
    return xattrs;
  }

  /** {@code st_nlink}. */
  public abstract int linkCount();

  /** {@code st_size}. */
  public abstract long size();

  /** {@code st_rdev}, encoded as the kernel's {@code new_encode_dev}. */
  public long rdev() {
    return 0;
  }

  /** {@code st_blocks} in 512-byte units, as a 4 KiB-block filesystem would report. */
  public long blocks() {
    return (size() + 4095) / 4096 * 8;
  }
}
