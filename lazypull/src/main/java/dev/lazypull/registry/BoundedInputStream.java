package dev.lazypull.registry;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Exactly {@code length} bytes of another stream: stops there, and fails with EOFException when the
 * stream ends early, so that a short answer is never taken for the whole range.
 */
final class BoundedInputStream extends FilterInputStream {

  private final long length;
  private long remaining;

  BoundedInputStream(InputStream in, long length) {
    super(in);
    this.length = length;
    this.remaining = length;
  }

  @Override
  public int read() throws IOException {
    if (remaining == 0) {
      return -1;
    }
    int b = in.read();
    if (b < 0) {
      throw shortRead();
    }
    remaining--;
    return b;
  }

  @Override
  public int read(byte[] buffer, int offset, int count) throws IOException {
    if (remaining == 0) {
      return -1;
    }
    int n = in.read(buffer, offset, (int) Math.min(count, remaining));
    if (n < 0) {
      throw shortRead();
    }
    remaining -= n;
    return n;
  }

  @Override
  public long skip(long count) throws IOException {
    long skipped = in.skip(Math.min(count, remaining));
    remaining -= skipped;
    return skipped;
  }

  @Override
  public int available() throws IOException {
    return (int) Math.min(in.available(), remaining);
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  private EOFException shortRead() {
    return new EOFException(
        "stream ended after " + (length - remaining) + " of " + length + " expected bytes");
  }
}
