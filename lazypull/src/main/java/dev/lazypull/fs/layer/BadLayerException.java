package dev.lazypull.fs.layer;

import java.io.IOException;

/** A read from a layer that lazypull found not to match its digests; it never serves bytes. */
public final class BadLayerException extends IOException {
  private static final long serialVersionUID = 1L;

  public BadLayerException(String message) {
    super(message);
  }
}
