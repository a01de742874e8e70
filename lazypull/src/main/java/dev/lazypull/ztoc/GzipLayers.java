package dev.lazypull.ztoc;

import java.io.InputStream;

/**
 * Decompresses whole gzip layers with the rules the indexer applies: every member is read, zero
 * padding after the last one is allowed, and any other trailing byte is an error, as it is for
 * containerd (which reads the stream to its end after unpacking it). So a layer fetched whole is
 * accepted exactly when it could have been indexed.
 */
public final class GzipLayers {
  private GzipLayers() {}

  /**
   * The uncompressed stream of {@code gzip}; close it to free its native buffers. Reading it throws
   * {@link ZtocException} for corrupt, truncated or trailing data.
   */
  public static InputStream decompress(InputStream gzip) {
    return new GzipIndexingStream(gzip, Long.MAX_VALUE);
  }
}
