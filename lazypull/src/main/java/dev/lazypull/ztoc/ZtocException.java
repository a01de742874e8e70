package dev.lazypull.ztoc;

import java.io.IOException;

/** A zTOC could not be built, decoded or used: the message says which layer and why. */
public class ZtocException extends IOException {
  private static final long serialVersionUID = 1L;

  public ZtocException(String message) {
    super(message);
  }

  public ZtocException(String message, Throwable cause) {
    super(message, cause);
  }
}
