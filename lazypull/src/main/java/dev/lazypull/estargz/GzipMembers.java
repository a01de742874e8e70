package dev.lazypull.estargz;

import dev.lazypull.oci.Digest;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.jspecify.annotations.Nullable;

/**
 * Writes a stream of concatenated gzip members, tracking the compressed offset (where the next
 * member starts) and hashing both the compressed and the uncompressed bytes.
 */
final class GzipMembers {
  private final OutputStream sink;
  private final int level;
  private final MessageDigest compressedHash = Digest.newSha256();
  private final MessageDigest uncompressedHash = Digest.newSha256();
  private long compressedOffset;
  private long uncompressedSize;
  private @Nullable Member member;

  GzipMembers(OutputStream sink, int level) {
    this.sink = sink;
    this.level = level;
  }

  /** Where the next member starts in the blob; valid between members. */
  long compressedOffset() {
    return compressedOffset;
  }

  /** Writes uncompressed bytes into the current member, opening one if none is open. */
  void write(byte[] bytes, int offset, int length) throws IOException {
    if (length == 0) {
      return;
    }
    Member current = member;
    if (current == null) {
      current = open();
    }
    current.write(bytes, offset, length);
    uncompressedHash.update(bytes, offset, length);
    uncompressedSize += length;
  }

  void write(byte[] bytes) throws IOException {
    write(bytes, 0, bytes.length);
  }

  /** Ends the current member, if any: the next write starts a new one. */
  void endMember() throws IOException {
    if (member != null) {
      member.finishAndRelease();
      member = null;
    }
  }

  /** Writes bytes as they are, outside any member (the footer). */
  void writeRaw(byte[] bytes) throws IOException {
    endMember();
    countingSink().write(bytes);
  }

  Digest compressedDigest() {
    return Digest.fromSha256(compressedHash.digest());
  }

  Digest uncompressedDigest() {
    return Digest.fromSha256(uncompressedHash.digest());
  }

  long uncompressedSize() {
    return uncompressedSize;
  }

  private Member open() throws IOException {
    var opened = new Member(countingSink(), level);
    member = opened;
    return opened;
  }

  /** One gzip member at a chosen level; its deflater is freed as soon as it is finished. */
  private static final class Member extends GZIPOutputStream {
    Member(OutputStream out, int level) throws IOException {
      super(out, 1 << 16);
      def.setLevel(level);
    }

    void finishAndRelease() throws IOException {
      finish();
      def.end();
    }
  }

  /** The sink seen through a view that counts and hashes, and never closes it. */
  private OutputStream countingSink() {
    return new FilterOutputStream(sink) {
      @Override
      public void write(int b) throws IOException {
        sink.write(b);
        compressedHash.update((byte) b);
        compressedOffset++;
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        sink.write(b, off, len);
        compressedHash.update(b, off, len);
        compressedOffset += len;
      }

      @Override
      public void close() {}
    };
  }

  static int checkLevel(int level) {
    if (level < Deflater.NO_COMPRESSION || level > Deflater.BEST_COMPRESSION) {
      throw new IllegalArgumentException("gzip level must be 0-9: " + level);
    }
    return level;
  }
}
