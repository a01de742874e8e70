package dev.lazypull.fuse;

import java.time.Duration;

/**
 * The answer to a lookup: the inode a name refers to and how long the kernel may cache the name
 * ({@code entryTimeout}) and the attributes ({@code attributesTimeout}). Each entry handed to the
 * kernel counts one lookup of {@code attributes.ino()}, which a later forget gives back.
 */
public record Entry(
    Attributes attributes, long generation, Duration entryTimeout, Duration attributesTimeout) {

  /** An entry with generation 0 and the same timeout for name and attributes. */
  public static Entry of(Attributes attributes, Duration timeout) {
    return new Entry(attributes, 0, timeout, timeout);
  }
}
