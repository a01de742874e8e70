package dev.lazypull.tar;

/** Parses tar's numeric header fields: octal text, or base-256 when the top bit is set. */
final class TarNumbers {
  private TarNumbers() {}

  /** The value of field {@code [at, at + length)}; NumberFormatException names the bad text. */
  static long parse(byte[] block, int at, int length) {
    if ((block[at] & 0x80) != 0) {
      return base256(block, at, length);
    }
    long value = 0;
    int i = at;
    int end = at + length;
    while (i < end && (block[i] == ' ' || block[i] == 0)) {
      i++;
    }
    int digits = 0;
    for (; i < end && block[i] >= '0' && block[i] <= '7'; i++) {
      if (digits++ >= 21) {
        throw new NumberFormatException("octal number too long");
      }
      value = value * 8 + (block[i] - '0');
    }
    for (; i < end; i++) {
      if (block[i] != ' ' && block[i] != 0) {
        throw new NumberFormatException(
            "'"
                + new String(block, at, length, java.nio.charset.StandardCharsets.ISO_8859_1)
                    .replace("\0", "\\0")
                + "' is not octal");
      }
    }
    return value;
  }

  // GNU base-256: big-endian two's complement in the remaining bits; 0xff first byte = negative.
  private static long base256(byte[] block, int at, int length) {
    boolean negative = (block[at] & 0x40) != 0;
    long value = negative ? -1 : 0;
    for (int i = 0; i < length; i++) {
      int b = block[at + i] & 0xff;
      if (i == 0) {
        b &= 0x7f;
        if (negative) {
          b |= 0x80;
        }
      }
      if (i < length - 8 && b != (negative ? 0xff : 0)) {
        throw new NumberFormatException("base-256 number does not fit 64 bits");
      }
      value = (value << 8) | b;
    }
    return value;
  }
}
