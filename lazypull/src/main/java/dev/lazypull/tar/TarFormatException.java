package dev.lazypull.tar;

import java.io.IOException;

/** The tar stream is malformed, truncated, or uses a feature lazypull cannot index. */
public class TarFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public TarFormatException(String message) {
    super(message);
  }
}
