package dev.lazypull.ztoc;

/** Compressed bytes of a span do not hash to the digest the zTOC holds for it. */
public final class SpanDigestMismatchException extends ZtocException {
  private static final long serialVersionUID = 1L;

  public SpanDigestMismatchException(String message) {
    super(message);
  }
}
