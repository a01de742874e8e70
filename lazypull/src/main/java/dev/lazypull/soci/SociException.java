package dev.lazypull.soci;

import java.io.IOException;

/**
 * A SOCI index could not be made, found or trusted. The message is one line naming the action, the
 * image or layer, and what to try.
 */
public class SociException extends IOException {
  private static final long serialVersionUID = 1L;

  public SociException(String message) {
    super(message);
  }

  public SociException(String message, Throwable cause) {
    super(message, cause);
  }
}
