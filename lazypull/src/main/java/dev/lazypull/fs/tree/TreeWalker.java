package dev.lazypull.fs.tree;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Resolves paths inside the tree the way containerd's unpacker resolves them inside the root
 * directory: symlinks are followed, an absolute target restarts at the image root, and ".." stops
 * at the root. Nothing can resolve to a place outside the image.
 */
final class TreeWalker {
  /** Like Linux's MAXSYMLINKS: more expansions than this is a loop (ELOOP). */
  static final int MAX_SYMLINK_EXPANSIONS = 40;

  private final DirectoryNode root;

  TreeWalker(DirectoryNode root) {
    this.root = root;
  }

  /** What walking a path found. */
  sealed interface Outcome {}

  /** The path resolved to a node. */
  record Found(Node node) implements Outcome {}

  /** A component does not exist; {@code parent} is the directory where it was missing. */
  record Missing(DirectoryNode parent, Name name, List<Name> rest) implements Outcome {}

  /** A component that must be a directory is not one. */
  record NotDirectory(Name name) implements Outcome {}

  /** Too many symlinks were followed. */
  record Loop() implements Outcome {}

  /**
   * Walks cleaned components from the root.
   *
   * @param followLast whether a symlink in the last component is followed too
   */
  Outcome walk(List<Name> components, boolean followLast) {
    Deque<DirectoryNode> stack = new ArrayDeque<>();
    stack.push(root);
    Deque<Name> todo = new ArrayDeque<>(components);
    int expansions = 0;
    Node current = root;
    while (!todo.isEmpty()) {
      Name name = todo.pollFirst();
      if (name == null) {
        break;
      }
      if (isDotDot(name)) {
        if (stack.size() > 1) {
          stack.pop();
        }
        current = stack.peek();
        continue;
      }
      if (!(current instanceof DirectoryNode dir)) {
        return new NotDirectory(name);
      }
      Node child = dir.child(name);
      if (child == null) {
        return new Missing(dir, name, new ArrayList<>(todo));
      }
      boolean last = todo.isEmpty();
      if (child instanceof SymlinkNode link && (!last || followLast)) {
        if (++expansions > MAX_SYMLINK_EXPANSIONS) {
          return new Loop();
        }
        expand(link, todo, stack);
        current = stack.peek();
        continue;
      }
      if (child instanceof DirectoryNode childDir) {
        stack.push(childDir);
      }
      current = child;
    }
    return new Found(current);
  }

  /** Replaces the link by its target's components, restarting at the root if absolute. */
  private void expand(SymlinkNode link, Deque<Name> todo, Deque<DirectoryNode> stack) {
    byte[] target = link.target();
    if (target.length > 0 && target[0] == '/') {
      while (stack.size() > 1) {
        stack.pop();
      }
    }
    List<Name> parts = splitKeepingDotDot(target);
    for (int i = parts.size() - 1; i >= 0; i--) {
      todo.addFirst(parts.get(i));
    }
  }

  /** Splits a link target; ".." must stay, since it is relative to where the link sits. */
  private static List<Name> splitKeepingDotDot(byte[] target) {
    List<Name> parts = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= target.length; i++) {
      if (i == target.length || target[i] == '/') {
        int length = i - start;
        boolean dot = length == 1 && target[start] == '.';
        if (length > 0 && !dot) {
          byte[] part = new byte[length];
          System.arraycopy(target, start, part, 0, length);
          parts.add(Name.wrap(part));
        }
        start = i + 1;
      }
    }
    return parts;
  }

  private static boolean isDotDot(Name name) {
    byte[] b = name.rawBytes();
    return b.length == 2 && b[0] == '.' && b[1] == '.';
  }

  /** Resolves a path to a node, or null when it does not resolve. */
  @Nullable Node resolve(List<Name> components, boolean followLast) {
    return walk(components, followLast) instanceof Found found ? found.node() : null;
  }
}
