package dev.lazypull.fs.tree;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** An image's merged root filesystem, read-only, with nodes addressed by inode number. */
public final class MergedTree {
  private final DirectoryNode root;
  private final Node[] byInode;
  private final TreeWalker walker;

  MergedTree(DirectoryNode root, Node[] byInode) {
    this.root = root;
    this.byInode = byInode;
    this.walker = new TreeWalker(root);
  }

  public DirectoryNode root() {
    return root;
  }

  /** The node with this inode number, or null. */
  public @Nullable Node node(long inode) {
    return inode > 0 && inode < byInode.length ? byInode[(int) inode] : null;
  }

  /** How many inodes the tree has. */
  public int nodeCount() {
    return byInode.length - 1;
  }

  /**
   * Resolves a path inside the image, following symlinks inside the root. Returns null when it does
   * not resolve (missing, not a directory, or a symlink loop).
   */
  public @Nullable Node resolve(byte[] path, boolean followLast) {
    List<Name> components = PathNames.clean(path);
    return walker.resolve(components, followLast);
  }

  /** Whether resolving the path runs into a symlink loop. */
  public boolean loops(byte[] path) {
    return walker.walk(PathNames.clean(path), true) instanceof TreeWalker.Loop;
  }
}
