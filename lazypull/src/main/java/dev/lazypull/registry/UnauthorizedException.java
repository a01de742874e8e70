package dev.lazypull.registry;

/** The registry refused the credentials or the action (401 after authenticating, or 403). */
public final class UnauthorizedException extends RegistryException {

  public UnauthorizedException(String message) {
    super(message);
  }

  public UnauthorizedException(String message, Throwable cause) {
    super(message, cause);
  }
}
