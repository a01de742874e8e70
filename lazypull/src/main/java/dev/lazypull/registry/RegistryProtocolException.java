package dev.lazypull.registry;

/** The registry answered something the protocol does not allow (unexpected status, bad header). */
public final class RegistryProtocolException extends RegistryException {

  public RegistryProtocolException(String message) {
    super(message);
  }

  public RegistryProtocolException(String message, Throwable cause) {
    super(message, cause);
  }
}
