package dev.lazypull.estargz;

import java.io.IOException;

/** An eStargz blob or TOC could not be read or trusted: the message says which and why. */
public class EstargzException extends IOException {
  private static final long serialVersionUID = 1L;

  public EstargzException(String message) {
    super(message);
  }

  public EstargzException(String message, Throwable cause) {
    super(message, cause);
  }
}
