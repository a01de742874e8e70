package dev.lazypull.registry;

/** The image, tag, blob or repository does not exist (404). */
public final class NotFoundException extends RegistryException {

  public NotFoundException(String message) {
    super(message);
  }

  public NotFoundException(String message, Throwable cause) {
    super(message, cause);
  }
}
