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

  /** The size of {@link #encode()}. */
  int encodedSize();

  /** Writes the encoding into {@code out} (little-endian) at its position. */
  void writeTo(java.nio.ByteBuffer out);

  /** The bytes stored in the zTOC's {@code checkpoints} field. */
  default byte[] encode() {
    var out = java.nio.ByteBuffer.allocate(encodedSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    writeTo(out);
    return out.array();
  }
}
