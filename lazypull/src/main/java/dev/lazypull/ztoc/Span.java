package dev.lazypull.ztoc;

import dev.lazypull.oci.Digest;

/**
 * One span of a layer: the compressed bytes to fetch and verify, and the uncompressed bytes they
 * give.
 *
 * @param compressedStart first compressed byte, one before the checkpoint when bits are pending
 * @param compressedEnd one past the last compressed byte (the next checkpoint's {@code in})
 */
public record Span(
    int id,
    long compressedStart,
    long compressedEnd,
    long uncompressedStart,
    long uncompressedEnd,
    Digest digest) {

  public long compressedLength() {
    return compressedEnd - compressedStart;
  }

  public long uncompressedLength() {
    return uncompressedEnd - uncompressedStart;
  }
}
