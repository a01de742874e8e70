package dev.lazypull.fs.tree;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A directory. While building, children sit in a hash map; {@link #freeze} turns them into sorted
 * arrays, which take less memory and give readdir stable offsets.
 */
public final class DirectoryNode extends Node {
  private @Nullable Map<Name, Node> building = new HashMap<>();
  private Name[] names = new Name[0];
  private Node[] children = new Node[0];
  private int subdirectoryCount;

  DirectoryNode(LayerEntry entry) {
    super(entry);
  }

  /** An implicit directory, made for an entry whose parent the layer did not list. */
  DirectoryNode(int permissions) {
    super(0040000 | permissions, 0, 0);
  }

  @Override
  int fileTypeBits() {
    return 0040000;
  }

  @Nullable Node child(Name name) {
    if (building != null) {
      return building.get(name);
    }
    return lookup(name);
  }

  void putChild(Name name, Node node) {
    mutableChildren().put(name, node);
  }

  @Nullable Node removeChild(Name name) {
    return mutableChildren().remove(name);
  }

  void clearChildren() {
    mutableChildren().clear();
  }

  Map<Name, Node> mutableChildren() {
    if (building == null) {
      throw new IllegalStateException("the tree is frozen");
    }
    return building;
  }

  void freeze() {
    Map<Name, Node> map = mutableChildren();
    var sorted = new java.util.TreeMap<Name, Node>(map);
    names = sorted.keySet().toArray(new Name[0]);
    children = sorted.values().toArray(new Node[0]);
    subdirectoryCount = 0;
    for (Node child : children) {
      if (child instanceof DirectoryNode) {
        subdirectoryCount++;
      }
    }
    building = null;
  }

  /** The child with this name, or null. */
  public @Nullable Node lookup(Name name) {
    int i = Arrays.binarySearch(names, name);
    return i >= 0 ? children[i] : null;
  }

  /** How many entries the directory holds, not counting "." and "..". */
  public int childCount() {
    return names.length;
  }

  /** The name of the child at a readdir position. */
  public Name nameAt(int index) {
    return names[index];
  }

  /** The child at a readdir position. */
  public Node childAt(int index) {
    return children[index];
  }

  /** The children's names in readdir order. */
  public List<Name> names() {
    return List.of(names);
  }

  @Override
  public int linkCount() {
    return 2 + subdirectoryCount;
  }

  @Override
  public long size() {
    return 4096;
  }
}
