package dev.lazypull.registry;

/** The registry answered 416 to a range request. */
public final class RangeNotSatisfiableException extends RegistryException {

  public RangeNotSatisfiableException(String message) {
    super(message);
  }

  public RangeNotSatisfiableException(String message, Throwable cause) {
    super(message, cause);
  }
}
