package dev.lazypull.registry;

/** The registry does not serve byte ranges and a full download was not allowed. */
public final class RangeUnsupportedException extends RegistryException {

  public RangeUnsupportedException(String message) {
    super(message);
  }

  public RangeUnsupportedException(String message, Throwable cause) {
    super(message, cause);
  }
}
