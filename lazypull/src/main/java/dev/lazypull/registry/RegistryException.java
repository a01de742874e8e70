package dev.lazypull.registry;

/**
 * A registry operation failed. The message is one line naming the action, what the registry said
 * and what to try; it never holds credentials or tokens.
 */
public sealed class RegistryException extends Exception
    permits NotFoundException,
        UnauthorizedException,
        DigestMismatchException,
        RangeNotSatisfiableException,
        RangeUnsupportedException,
        RegistryUnavailableException,
        RegistryProtocolException {

  public RegistryException(String message) {
    super(message);
  }

  public RegistryException(String message, Throwable cause) {
    super(message, cause);
  }
}
