package dev.lazypull.ztoc;

import java.io.IOException;
import java.io.InputStream;

/**
 * Where a layer's compressed bytes come from: a local file, a byte array, or HTTP range requests to
 * a registry. Implementations must return exactly the requested bytes.
 */
@FunctionalInterface
public interface CompressedRangeSource {

  /** A stream of compressed bytes {@code [compressedOffset, compressedOffset + length)}. */
  InputStream open(long compressedOffset, long length) throws IOException;
}
