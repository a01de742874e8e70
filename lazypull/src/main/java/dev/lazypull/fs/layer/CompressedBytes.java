package dev.lazypull.fs.layer;

import java.io.IOException;

/** Fetches a layer's compressed bytes by range: the registry, in production. */
@FunctionalInterface
public interface CompressedBytes {
  /**
   * Exactly the bytes {@code [compressedOffset, compressedOffset + length)} of the blob.
   *
   * @throws IOException once the source's bounded retries are spent
   */
  byte[] fetch(long compressedOffset, int length) throws IOException;
}
