package dev.lazypull.fs.tree;

/** A layer entry that lazypull refuses to place in the tree, with the reason. */
public final class LayerEntryException extends Exception {
  private static final long serialVersionUID = 1L;

  public LayerEntryException(int layerIndex, String entryName, String reason) {
    super("layer " + layerIndex + ", entry '" + entryName + "': " + reason);
  }
}
