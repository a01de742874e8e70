package dev.lazypull.registry;

/**
 * The registry could not be reached or kept failing (connection errors, 429, 5xx) after the bounded
 * retries.
 */
public final class RegistryUnavailableException extends RegistryException {

  public RegistryUnavailableException(String message) {
    super(message);
  }

  public RegistryUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
