package dev.lazypull.ztoc;

import java.nio.charset.StandardCharsets;
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

  /**
   * {@link #clean(String)} on name bytes, keeping every other byte exactly. Cleaning looks only at
   * '/' and '.', which never occur inside a multi-byte UTF-8 sequence, so this equals cleaning the
   * UTF-8 text when the name is UTF-8, and stays exact when it is not.
   */
  public static byte[] clean(byte[] name) {
    // ISO-8859-1 maps each byte to one char and back, so the bytes survive the String round trip.
    return clean(new String(name, StandardCharsets.ISO_8859_1))
        .getBytes(StandardCharsets.ISO_8859_1);
  }
}
