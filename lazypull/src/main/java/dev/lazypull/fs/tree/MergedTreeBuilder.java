package dev.lazypull.fs.tree;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds an image's merged tree from its layers, bottom layer first, with the rules of containerd's
 * unpacker and of the OCI layer spec:
 *
 * <ul>
 *   <li>names are cleaned inside the root, and parent paths are resolved through symlinks inside
 *       the root, so no entry lands outside the image;
 *   <li>missing parents are made as implicit 0755 directories;
 *   <li>a whiteout {@code .wh.NAME} removes NAME of lower layers and {@code .wh..wh..opq} empties
 *       its directory of lower layers' content; both act before the layer's own entries, so they
 *       never hide what their own layer adds;
 *   <li>a later entry for a path replaces the earlier one, except that a directory over a directory
 *       only updates its metadata;
 *   <li>a hardlink shares the node of the path it names, from this layer or a lower one.
 * </ul>
 */
public final class MergedTreeBuilder {
  private static final Logger log = LoggerFactory.getLogger(MergedTreeBuilder.class);
  private static final String WHITEOUT_PREFIX = ".wh.";
  private static final String AUFS_META_PREFIX = ".wh..wh.";
  private static final Name OPAQUE_MARKER = Name.of(".wh..wh..opq");

  /** The xattr overlayfs reads to learn that a lower directory hides what is below it. */
  public static final String OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";

  private final DirectoryNode root = new DirectoryNode(0755);
  private final TreeWalker walker = new TreeWalker(root);
  private final boolean overlayWhiteouts;
  private boolean built;

  /** A builder that merges layers, applying their whiteouts. */
  public MergedTreeBuilder() {
    this(false);
  }

  private MergedTreeBuilder(boolean overlayWhiteouts) {
    this.overlayWhiteouts = overlayWhiteouts;
  }

  /**
   * A builder for the tree of ONE layer to serve as an overlayfs lower directory: whiteouts are
   * kept as entries, in overlayfs's form: {@code .wh.NAME} becomes NAME, a 0/0 character device,
   * and {@code .wh..wh..opq} sets {@code trusted.overlay.opaque=y} on its directory.
   */
  public static MergedTreeBuilder forOverlayLayer() {
    return new MergedTreeBuilder(true);
  }

  /**
   * Adds one layer's entries, in tar order.
   *
   * @throws LayerEntryException for an entry that cannot be placed (names the entry)
   */
  public void addLayer(int layerIndex, List<LayerEntry> entries) throws LayerEntryException {
    if (built) {
      throw new IllegalStateException("the tree was already built");
    }
    List<LayerEntry> ordinary = new ArrayList<>(entries.size());
    List<LayerEntry> whiteouts = new ArrayList<>();
    for (LayerEntry entry : entries) {
      List<Name> path = cleanName(layerIndex, entry);
      if (!path.isEmpty() && path.getLast().startsWith(WHITEOUT_PREFIX)) {
        if (overlayWhiteouts) {
          whiteouts.add(entry);
        } else {
          applyWhiteout(layerIndex, entry, path);
        }
      } else {
        ordinary.add(entry);
      }
    }
    for (LayerEntry entry : ordinary) {
      add(layerIndex, entry, cleanName(layerIndex, entry));
    }
    // After the ordinary entries, so that a directory entry's metadata cannot drop the xattr.
    for (LayerEntry entry : whiteouts) {
      keepWhiteout(layerIndex, entry, cleanName(layerIndex, entry));
    }
  }

  private void keepWhiteout(int layerIndex, LayerEntry entry, List<Name> path)
      throws LayerEntryException {
    Name marker = path.getLast();
    List<Name> dirPath = path.subList(0, path.size() - 1);
    if (marker.equals(OPAQUE_MARKER)) {
      DirectoryNode dir = dirPath.isEmpty() ? root : parentDirectory(layerIndex, entry, dirPath);
      dir.addXattr(OVERLAY_OPAQUE_XATTR, new byte[] {'y'});
    } else if (marker.startsWith(AUFS_META_PREFIX)) {
      log.debug("layer {}: skipping aufs metadata entry {}", layerIndex, entry.displayName());
    } else {
      List<Name> hidden = new ArrayList<>(dirPath);
      hidden.add(marker.dropPrefix(WHITEOUT_PREFIX.length()));
      var device =
          new LayerEntry(
              entry.rawName(),
              EntryType.CHAR_DEVICE,
              entry.mode(),
              entry.uid(),
              entry.gid(),
              entry.mtimeSeconds(),
              entry.mtimeNanos(),
              0,
              new byte[0],
              0,
              0,
              java.util.Map.of(),
              0);
      add(layerIndex, device, hidden);
    }
  }

  /** Freezes the tree and numbers its inodes; the root is inode 1. */
  public MergedTree build() {
    built = true;
    List<Node> byInode = new ArrayList<>();
    byInode.add(root); // index 0 is unused: inode numbers start at 1
    Deque<DirectoryNode> pending = new ArrayDeque<>();
    root.setInode(1);
    byInode.add(root);
    pending.push(root);
    while (!pending.isEmpty()) {
      DirectoryNode dir = pending.pop();
      dir.freeze();
      for (int i = 0; i < dir.childCount(); i++) {
        Node child = dir.childAt(i);
        if (child.inode() == 0) {
          child.setInode(byInode.size());
          byInode.add(child);
        }
        if (child instanceof DirectoryNode childDir) {
          pending.push(childDir);
        }
      }
    }
    return new MergedTree(root, byInode.toArray(new Node[0]));
  }

  private static List<Name> cleanName(int layerIndex, LayerEntry entry) throws LayerEntryException {
    try {
      return PathNames.clean(entry.rawName());
    } catch (IllegalArgumentException e) {
      throw new LayerEntryException(
          layerIndex, entry.displayName(), String.valueOf(e.getMessage()));
    }
  }

  private void applyWhiteout(int layerIndex, LayerEntry entry, List<Name> path)
      throws LayerEntryException {
    Name marker = path.getLast();
    List<Name> parentPath = path.subList(0, path.size() - 1);
    if (!(walker.resolve(parentPath, true) instanceof DirectoryNode parent)) {
      return; // nothing below to hide
    }
    if (marker.equals(OPAQUE_MARKER)) {
      for (Node child : parent.mutableChildren().values()) {
        detach(child);
      }
      parent.clearChildren();
    } else if (marker.startsWith(AUFS_META_PREFIX)) {
      log.debug("layer {}: skipping aufs metadata entry {}", layerIndex, entry.displayName());
    } else {
      Node removed = parent.removeChild(marker.dropPrefix(WHITEOUT_PREFIX.length()));
      if (removed != null) {
        detach(removed);
      }
    }
  }

  private void add(int layerIndex, LayerEntry entry, List<Name> path) throws LayerEntryException {
    if (path.isEmpty()) {
      if (entry.type() == EntryType.DIRECTORY) {
        root.setMetadata(entry);
        return;
      }
      // containerd skips any entry that resolves to the root ("resolved to root"): a file, link
      // or device cannot replace it.
      log.debug(
          "layer {}: ignoring {} entry {} that names the root",
          layerIndex,
          entry.type(),
          entry.displayName());
      return;
    }
    DirectoryNode parent = parentDirectory(layerIndex, entry, path.subList(0, path.size() - 1));
    Name name = path.getLast();
    Node existing = parent.child(name);
    switch (entry.type()) {
      case DIRECTORY -> {
        if (existing instanceof DirectoryNode dir) {
          dir.setMetadata(entry);
        } else {
          replace(parent, name, new DirectoryNode(entry));
        }
      }
      case HARDLINK -> link(layerIndex, entry, parent, name);
      case REGULAR -> replace(parent, name, new FileNode(entry, layerIndex));
      case SYMLINK -> replace(parent, name, new SymlinkNode(entry));
      case CHAR_DEVICE, BLOCK_DEVICE, FIFO -> replace(parent, name, new SpecialNode(entry));
    }
  }

  private void link(int layerIndex, LayerEntry entry, DirectoryNode parent, Name name)
      throws LayerEntryException {
    List<Name> targetPath;
    try {
      targetPath = PathNames.clean(entry.linkName());
    } catch (IllegalArgumentException e) {
      throw new LayerEntryException(
          layerIndex, entry.displayName(), String.valueOf(e.getMessage()));
    }
    // Like link(2) without AT_SYMLINK_FOLLOW: a hardlink to a symlink links the symlink itself.
    Node target = walker.resolve(targetPath, false);
    if (target == null) {
      throw new LayerEntryException(
          layerIndex,
          entry.displayName(),
          "hardlink target '" + PathNames.display(targetPath) + "' does not exist");
    }
    if (target instanceof DirectoryNode) {
      throw new LayerEntryException(
          layerIndex, entry.displayName(), "hardlink to a directory is not allowed");
    }
    if (parent.child(name) != target) {
      replace(parent, name, target);
    }
  }

  private DirectoryNode parentDirectory(int layerIndex, LayerEntry entry, List<Name> parentPath)
      throws LayerEntryException {
    List<Name> remaining = parentPath;
    while (true) {
      switch (walker.walk(remaining, true)) {
        case TreeWalker.Found(DirectoryNode dir) -> {
          return dir;
        }
        case TreeWalker.Found found ->
            throw new LayerEntryException(
                layerIndex, entry.displayName(), "a parent path is not a directory");
        case TreeWalker.Missing missing -> {
          // containerd creates missing parents; the walk restarts from the new directory's
          // path so that symlinks already followed stay followed.
          DirectoryNode implicit = new DirectoryNode(0755);
          replace(missing.parent(), missing.name(), implicit);
          if (missing.rest().isEmpty()) {
            return implicit;
          }
          remaining = resolvedPrefixThen(missing.parent(), missing.name(), missing.rest());
        }
        case TreeWalker.NotDirectory notDir ->
            throw new LayerEntryException(
                layerIndex,
                entry.displayName(),
                "parent component '" + notDir.name() + "' is not a directory");
        case TreeWalker.Loop loop ->
            throw new LayerEntryException(
                layerIndex, entry.displayName(), "too many symlinks in the parent path");
      }
    }
  }

  /** The path of {@code dir}/{@code name} followed by {@code rest}, found by search. */
  private List<Name> resolvedPrefixThen(DirectoryNode dir, Name name, List<Name> rest) {
    List<Name> prefix = pathOf(dir);
    List<Name> path = new ArrayList<>(prefix.size() + 1 + rest.size());
    path.addAll(prefix);
    path.add(name);
    path.addAll(rest);
    return path;
  }

  /** The path of a directory from the root, found by a search; directories have one path. */
  private List<Name> pathOf(DirectoryNode target) {
    if (target == root) {
      return List.of();
    }
    Deque<List<Name>> paths = new ArrayDeque<>();
    Deque<DirectoryNode> dirs = new ArrayDeque<>();
    dirs.push(root);
    paths.push(List.of());
    while (!dirs.isEmpty()) {
      DirectoryNode dir = dirs.pop();
      List<Name> path = paths.pop();
      for (var child : dir.mutableChildren().entrySet()) {
        if (child.getValue() instanceof DirectoryNode sub) {
          List<Name> subPath = new ArrayList<>(path);
          subPath.add(child.getKey());
          if (sub == target) {
            return subPath;
          }
          dirs.push(sub);
          paths.push(subPath);
        }
      }
    }
    throw new IllegalStateException("directory not in the tree");
  }

  private static void replace(DirectoryNode parent, Name name, Node node) {
    Node old = parent.removeChild(name);
    if (old != null) {
      detach(old);
    }
    parent.putChild(name, node);
    node.linkCount++;
  }

  /** Drops one path's reference to a node and, for a directory, to everything below it. */
  private static void detach(Node node) {
    node.linkCount--;
    if (node instanceof DirectoryNode dir) {
      Deque<DirectoryNode> pending = new ArrayDeque<>();
      pending.push(dir);
      while (!pending.isEmpty()) {
        for (Node child : pending.pop().mutableChildren().values()) {
          child.linkCount--;
          if (child instanceof DirectoryNode sub) {
            pending.push(sub);
          }
        }
      }
    }
  }
}
