package dev.lazypull.fuse;

import java.time.Duration;

/**
 * The answer to a lookup: the inode a name refers to and how long the kernel may cache the name
 * ({@code entryTimeout}) and the attributes ({@code attributesTimeout}). Each entry handed to the
 * kernel counts one lookup of {@code attributes.ino()}, which a later forget gives back.
 */
public record Entry(
    Attributes attributes, long generation, Duration entryTimeout, Duration attributesTimeout) {

  private static final Attributes NO_ATTRIBUTES =
      new Attributes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

  /**
   * The answer to a lookup of a name that does not exist, which the kernel may remember for {@code
   * timeout} instead of asking again (node id 0 in the reply). Only for lookup.
   */
  public static Entry missing(Duration timeout) {
    return new Entry(NO_ATTRIBUTES, 0, timeout, Duration.ZERO);
  }

  /** True for {@link #missing}: the name does not exist. */
  public boolean isMissing() {
    return attributes.ino() == 0;
  }

  /** An entry with generation 0 and the same timeout for name and attributes. */
  public static Entry of(Attributes attributes, Duration timeout) {
    return new Entry(attributes, 0, timeout, timeout);
  }
}
