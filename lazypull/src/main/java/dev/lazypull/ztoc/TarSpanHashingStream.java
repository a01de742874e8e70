package dev.lazypull.ztoc;

import dev.lazypull.oci.Digest;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/** Passes an uncompressed tar layer through and hashes it in spans of a fixed size. */
final class TarSpanHashingStream extends FilterInputStream {

  private final long spanSize;
  private final MessageDigest spanHasher = Digest.newSha256();
  private final List<Digest> spanDigests = new ArrayList<>();
  private final byte[] skipBuffer = new byte[1 << 16];
  private long offset;

  TarSpanHashingStream(InputStream in, long spanSize) {
    super(in);
    this.spanSize = spanSize;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int at, int length) throws IOException {
    long toSpanEnd = spanSize - offset % spanSize;
    int n = in.read(buffer, at, (int) Math.min(length, toSpanEnd));
    if (n > 0) {
      spanHasher.update(buffer, at, n);
      offset += n;
      if (offset % spanSize == 0) {
        spanDigests.add(Digest.fromSha256(spanHasher.digest()));
      }
    }
    return n;
  }

  /** Skipping still has to read: every byte is part of a span digest. */
  @Override
  public long skip(long count) throws IOException {
    int n = read(skipBuffer, 0, (int) Math.min(count, skipBuffer.length));
    return Math.max(n, 0);
  }

  void drain() throws IOException {
    while (read(skipBuffer, 0, skipBuffer.length) >= 0) {
      // hash the rest
    }
  }

  long size() {
    return offset;
  }

  /** The digests of all spans; call after {@link #drain()}. */
  List<Digest> spanDigests() {
    List<Digest> all = new ArrayList<>(spanDigests);
    if (offset % spanSize != 0 || offset == 0) {
      all.add(Digest.fromSha256(spanHasher.digest()));
    }
    return all;
  }
}
