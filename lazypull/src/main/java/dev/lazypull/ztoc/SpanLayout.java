package dev.lazypull.ztoc;

/**
 * How a layer is cut into spans, decoded from the zTOC's {@code checkpoints} field: gzip
 * checkpoints, or fixed-size slices of an uncompressed tar.
 */
public sealed interface SpanLayout permits GzipCheckpoints, TarZinfo {

  /** Uncompressed bytes per span the builder aimed for. */
  long spanSize();

  /** How many spans the layer has. */
  int spanCount();

  /** The bytes stored in the zTOC's {@code checkpoints} field. */
  byte[] encode();
}
