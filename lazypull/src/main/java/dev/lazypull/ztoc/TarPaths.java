package dev.lazypull.ztoc;

import java.util.ArrayDeque;
import java.util.Deque;

/** Normalises tar entry names the way OCI tools compare them: {@code clean("/" + name)}. */
public final class TarPaths {
  private TarPaths() {}

  /**
   * The lexically cleaned absolute path of {@code name}, without the leading slash: {@code
   * ./a//b/../c/} gives {@code a/c}, {@code ./} and {@code /} give the empty string. {@code ..}
   * cannot climb above the root.
   */
  public static String clean(String name) {
    Deque<String> parts = new ArrayDeque<>();
    for (String part : name.split("/", -1)) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        parts.pollLast();
      } else {
        parts.addLast(part);
      }
    }
    return String.join("/", parts);
  }
}
