package dev.lazypull.ztoc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Compressed ranges served from a layer held in memory. */
public final class ByteArrayRangeSource implements CompressedRangeSource {
  private final byte[] layer;

  public ByteArrayRangeSource(byte[] layer) {
    this.layer = layer;
  }

  @Override
  public InputStream open(long compressedOffset, long length) throws IOException {
    if (compressedOffset < 0 || length < 0 || compressedOffset + length > layer.length) {
      throw new IOException(
          "range ["
              + compressedOffset
              + ", "
              + (compressedOffset + length)
              + ") is outside the "
              + layer.length
              + "-byte layer");
    }
    return new ByteArrayInputStream(layer, (int) compressedOffset, (int) length);
  }
}
