package dev.lazypull.fs.tree;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One path component as raw bytes. Names in layers need not be UTF-8, so they are never decoded for
 * lookups; they compare as unsigned bytes, which gives readdir a stable order.
 */
public final class Name implements Comparable<Name> {
  /** Linux's NAME_MAX: no filesystem can hold a longer component. */
  public static final int MAX_LENGTH = 255;

  private final byte[] bytes;
  private final int hash;

  private Name(byte[] bytes) {
    this.bytes = bytes;
    this.hash = Arrays.hashCode(bytes);
  }

  /** Wraps a copy of the bytes. */
  public static Name of(byte[] bytes) {
    return new Name(bytes.clone());
  }

  /** Wraps the UTF-8 bytes of a string; for tests and fixed names. */
  public static Name of(String text) {
    return new Name(text.getBytes(StandardCharsets.UTF_8));
  }

  static Name wrap(byte[] bytes) {
    return new Name(bytes);
  }

  /** A copy of the raw bytes. */
  public byte[] toBytes() {
    return bytes.clone();
  }

  /** The raw bytes without a copy; callers must not change them. */
  public byte[] rawBytes() {
    return bytes;
  }

  public int length() {
    return bytes.length;
  }

  /** Whether this name starts with the given ASCII prefix. */
  public boolean startsWith(String asciiPrefix) {
    if (bytes.length < asciiPrefix.length()) {
      return false;
    }
    for (int i = 0; i < asciiPrefix.length(); i++) {
      if (bytes[i] != asciiPrefix.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** The name without its first {@code count} bytes. */
  public Name dropPrefix(int count) {
    return new Name(Arrays.copyOfRange(bytes, count, bytes.length));
  }

  @Override
  public int compareTo(Name other) {
    return Arrays.compareUnsigned(bytes, other.bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Name other && hash == other.hash && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  /** The name for messages; bytes that are not UTF-8 show as replacement characters. */
  @Override
  public String toString() {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
