package dev.lazypull.registry;

import dev.lazypull.oci.Digest;

/** Bytes from the registry do not hash to the digest they were fetched by. */
public final class DigestMismatchException extends RegistryException {

  private final Digest expected;
  private final Digest actual;

  public DigestMismatchException(String action, Digest expected, Digest actual) {
    super(
        action
            + ": content digest "
            + actual
            + " does not match expected "
            + expected
            + "; the registry or a proxy is serving wrong bytes, try again or check the mirror");
    this.expected = expected;
    this.actual = actual;
  }

  public Digest expected() {
    return expected;
  }

  public Digest actual() {
    return actual;
  }
}
