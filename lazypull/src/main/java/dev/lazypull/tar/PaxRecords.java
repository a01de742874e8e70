package dev.lazypull.tar;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Parses PAX extended header data: records of the form "LENGTH KEY=VALUE\n". Keys are UTF-8 text;
 * values are kept as the bytes the archive holds.
 */
public final class PaxRecords {
  private PaxRecords() {}

  /**
   * Parses all records. Each record is cut by its length prefix, not by newlines, because values
   * (xattrs) may hold newlines and any other byte.
   */
  public static SortedMap<String, byte[]> parse(byte[] data, long tarHeaderOffset)
      throws TarFormatException {
    SortedMap<String, byte[]> records = new TreeMap<>();
    int at = 0;
    while (at < data.length && data[at] != 0) {
      int space = indexOf(data, (byte) ' ', at);
      int length = space < 0 ? -1 : parseLength(data, at, space);
      int end = at + length;
      if (length <= 0 || end > data.length || data[end - 1] != '\n') {
        throw bad(tarHeaderOffset, at);
      }
      int equals = indexOf(data, (byte) '=', space + 1);
      if (equals < 0 || equals >= end) {
        throw bad(tarHeaderOffset, at);
      }
      String key = new String(data, space + 1, equals - space - 1, StandardCharsets.UTF_8);
      // Values stay bytes: xattr values such as security.capability are binary.
      records.put(key, java.util.Arrays.copyOfRange(data, equals + 1, end - 1));
      at = end;
    }
    return records;
  }

  /** Parses a PAX time: decimal seconds since the epoch, maybe fractional or negative. */
  public static Instant parseTime(String text) {
    BigDecimal seconds = new BigDecimal(text);
    BigDecimal whole = seconds.setScale(0, java.math.RoundingMode.FLOOR);
    long nanos = seconds.subtract(whole).movePointRight(9).longValue();
    return Instant.ofEpochSecond(whole.longValueExact(), nanos);
  }

  private static int parseLength(byte[] data, int from, int to) {
    if (to == from || to - from > 9) {
      return -1;
    }
    int value = 0;
    for (int i = from; i < to; i++) {
      if (data[i] < '0' || data[i] > '9') {
        return -1;
      }
      value = value * 10 + (data[i] - '0');
    }
    return value;
  }

  private static int indexOf(byte[] data, byte wanted, int from) {
    for (int i = from; i < data.length; i++) {
      if (data[i] == wanted) {
        return i;
      }
    }
    return -1;
  }

  private static TarFormatException bad(long tarHeaderOffset, int at) {
    return new TarFormatException(
        "PAX header at offset " + tarHeaderOffset + " has a malformed record at byte " + at);
  }
}
