package dev.lazypull.ztoc;

/**
 * Where inflating can restart: a deflate block boundary of a gzip layer.
 *
 * @param compressedOffset the first whole compressed byte after the boundary ({@code in})
 * @param uncompressedOffset the uncompressed offset at the boundary ({@code out})
 * @param bits how many high bits of byte {@code compressedOffset - 1} belong to the next block
 */
public record Checkpoint(long compressedOffset, long uncompressedOffset, int bits) {

  /** The first compressed byte a reader of the span needs: one earlier when bits are pending. */
  public long spanCompressedStart() {
    return bits == 0 ? compressedOffset : compressedOffset - 1;
  }
}
