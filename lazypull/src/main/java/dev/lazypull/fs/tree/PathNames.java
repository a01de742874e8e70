package dev.lazypull.fs.tree;

import java.util.ArrayList;
import java.util.List;

/**
 * Lexical cleaning of raw tar names, as {@code clean("/" + name)}: empty and "." components vanish
 * and ".." never climbs above the root. Symlinks are not followed here; {@link TreeWalker} does
 * that.
 */
public final class PathNames {
  private PathNames() {}

  /**
   * Splits and cleans a raw name into components. A result with no components is the root.
   *
   * @throws IllegalArgumentException if a component is longer than {@link Name#MAX_LENGTH}
   */
  public static List<Name> clean(byte[] raw) {
    List<Name> components = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= raw.length; i++) {
      if (i == raw.length || raw[i] == '/') {
        addComponent(components, raw, start, i);
        start = i + 1;
      }
    }
    return components;
  }

  private static void addComponent(List<Name> components, byte[] raw, int from, int to) {
    int length = to - from;
    if (length == 0 || (length == 1 && raw[from] == '.')) {
      return;
    }
    if (length == 2 && raw[from] == '.' && raw[from + 1] == '.') {
      if (!components.isEmpty()) {
        components.removeLast();
      }
      return;
    }
    if (length > Name.MAX_LENGTH) {
      throw new IllegalArgumentException(
          "a path component is " + length + " bytes long; Linux allows at most " + Name.MAX_LENGTH);
    }
    byte[] component = new byte[length];
    System.arraycopy(raw, from, component, 0, length);
    components.add(Name.wrap(component));
  }

  /** Joins components back into a path without a leading slash, for messages. */
  public static String display(List<Name> components) {
    var joined = new StringBuilder();
    for (Name name : components) {
      if (!joined.isEmpty()) {
        joined.append('/');
      }
      joined.append(name);
    }
    return joined.toString();
  }
}
