package dev.lazypull.fs;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Checks the 512-byte tar header that precedes a file's data against what the index says, before
 * the file's first read, as the SOCI snapshotter does: span digests cover compressed bytes only, so
 * an index whose TOC lies about offsets would otherwise serve another file's bytes.
 */
final class TarHeaderCheck {
  static final int HEADER_SIZE = 512;
  private static final int SIZE_FIELD = 124;
  private static final int CHECKSUM_FIELD = 148;
  private static final int TYPE_FLAG = 156;

  /** Sizes from 8 GiB up do not fit the octal field; PAX carries them and the field may be 0. */
  private static final long OCTAL_SIZE_LIMIT = 8L << 30;

  private TarHeaderCheck() {}

  /** Returns null if the header fits a regular file of {@code size} bytes, else the reason. */
  static @Nullable String mismatch(byte[] header, long size) {
    if (header.length != HEADER_SIZE) {
      return "the tar header before the data is cut short";
    }
    if (!checksumMatches(header)) {
      return "no valid tar header right before the file's data offset";
    }
    byte type = header[TYPE_FLAG];
    if (type != '0' && type != 0 && type != '7') {
      return "the tar header before the data is of type '" + (char) type + "', not a file";
    }
    long headerSize = parseNumber(header, SIZE_FIELD, 12);
    boolean paxCarriesSize = size >= OCTAL_SIZE_LIMIT && headerSize == 0;
    if (headerSize != size && !paxCarriesSize) {
      return "the tar header says " + headerSize + " bytes, the index says " + size;
    }
    return null;
  }

  private static boolean checksumMatches(byte[] header) {
    long stored = parseNumber(header, CHECKSUM_FIELD, 8);
    long unsigned = 0;
    long signed = 0;
    for (int i = 0; i < HEADER_SIZE; i++) {
      byte b = (i >= CHECKSUM_FIELD && i < CHECKSUM_FIELD + 8) ? (byte) ' ' : header[i];
      unsigned += b & 0xff;
      signed += b;
    }
    // Some old tar writers summed signed bytes; both are accepted, as GNU tar does.
    return stored == unsigned || stored == signed;
  }

  /** Parses an octal field, or a base-256 one (high bit set in the first byte). */
  private static long parseNumber(byte[] header, int offset, int length) {
    if ((header[offset] & 0x80) != 0) {
      long value = header[offset] & 0x7f;
      for (int i = 1; i < length; i++) {
        value = (value << 8) | (header[offset + i] & 0xff);
      }
      return value;
    }
    String text =
        new String(header, offset, length, StandardCharsets.US_ASCII).replace("\0", " ").strip();
    if (text.isEmpty()) {
      return 0;
    }
    try {
      return Long.parseLong(text, 8);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
