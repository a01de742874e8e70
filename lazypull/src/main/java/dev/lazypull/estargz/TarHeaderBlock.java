package dev.lazypull.estargz;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** The ustar header of the few entries the writer makes itself: the TOC and the landmarks. */
final class TarHeaderBlock {
  static final int BLOCK = 512;

  private TarHeaderBlock() {}

  /** A header for a regular file {@code name} (ASCII, under 100 bytes) of {@code size} bytes. */
  static byte[] regularFile(String name, long size, int mode) {
    byte[] header = new byte[BLOCK];
    put(header, 0, name.getBytes(StandardCharsets.US_ASCII));
    octal(header, 100, 8, mode);
    octal(header, 108, 8, 0);
    octal(header, 116, 8, 0);
    octal(header, 124, 12, size);
    octal(header, 136, 12, 0);
    header[156] = '0';
    put(header, 257, "ustar\0".getBytes(StandardCharsets.US_ASCII));
    put(header, 263, "00".getBytes(StandardCharsets.US_ASCII));
    Arrays.fill(header, 148, 156, (byte) ' ');
    long sum = 0;
    for (byte b : header) {
      sum += b & 0xff;
    }
    put(header, 148, String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII));
    return header;
  }

  /** Zero bytes that pad {@code size} bytes of data to a whole block. */
  static int padding(long size) {
    return (int) ((BLOCK - size % BLOCK) % BLOCK);
  }

  private static void put(byte[] header, int at, byte[] value) {
    System.arraycopy(value, 0, header, at, value.length);
  }

  private static void octal(byte[] header, int at, int length, long value) {
    String digits = Long.toOctalString(value);
    if (digits.length() >= length) {
      throw new IllegalArgumentException(value + " does not fit a " + length + "-byte tar field");
    }
    String padded = "0".repeat(length - 1 - digits.length()) + digits;
    put(header, at, padded.getBytes(StandardCharsets.US_ASCII));
  }
}
