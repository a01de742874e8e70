package dev.lazypull.ztoc;

/**
 * The layer is valid but lazypull cannot index it (sparse files, zstd): callers should not index it
 * and fetch it whole instead.
 */
public final class UnindexableLayerException extends ZtocException {
  private static final long serialVersionUID = 1L;

  public UnindexableLayerException(String message) {
    super(message);
  }
}
