package dev.lazypull.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes tar headers and data for {@link TestLayers}; kept apart to keep that class short. */
final class TarWriter {
  private static final int BLOCK = 512;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final TestLayers.LongNames longNames;
  private final Map<String, Long> dataOffsets = new LinkedHashMap<>();
  private final Map<String, Long> headerOffsets = new LinkedHashMap<>();

  TarWriter(TestLayers.LongNames longNames) {
    this.longNames = longNames;
  }

  void write(TestLayers.Entry e) {
    long headerOffset = out.size();
    var pax = new LinkedHashMap<>(e.pax);
    byte[] name = e.rawName;
    byte[] prefix = new byte[0];
    byte[] link = e.rawLinkName;
    if (name.length > 100) {
      switch (longNames) {
        case GNU -> writeExtension("././@LongLink", 'L', nulTerminated(name));
        case PAX -> pax.putIfAbsent("path", name);
        case USTAR_PREFIX -> {
          int slash = lastSlashBefore(name, name.length - 101);
          prefix = Arrays.copyOf(name, slash);
          name = Arrays.copyOfRange(name, slash + 1, name.length);
        }
      }
      if (longNames != TestLayers.LongNames.USTAR_PREFIX) {
        name = Arrays.copyOf(name, 100);
      }
    }
    if (link.length > 100) {
      if (longNames == TestLayers.LongNames.PAX) {
        pax.putIfAbsent("linkpath", link);
      } else {
        writeExtension("././@LongLink", 'K', nulTerminated(link));
      }
      link = Arrays.copyOf(link, 100);
    }
    if (!pax.isEmpty()) {
      writeExtension("PaxHeaders/" + new String(name, StandardCharsets.UTF_8), 'x', paxData(pax));
    }
    long size = e.headerSize != null ? e.headerSize : e.data.length;
    out.writeBytes(header(e, name, prefix, link, size));
    String key = new String(e.rawName, StandardCharsets.UTF_8);
    headerOffsets.put(key, headerOffset);
    dataOffsets.put(key, (long) out.size());
    writePadded(e.data);
  }

  void writeGlobal(Map<String, byte[]> records) {
    writeExtension("pax_global_header", 'g', paxData(records));
  }

  TestLayers.Tar finish(boolean endMarker) {
    if (endMarker) {
      out.writeBytes(new byte[2 * BLOCK]);
    }
    return new TestLayers.Tar(out.toByteArray(), dataOffsets, headerOffsets);
  }

  private static int lastSlashBefore(byte[] name, int minimum) {
    for (int i = Math.min(155, name.length - 1); i >= Math.max(minimum, 1); i--) {
      if (name[i] == '/') {
        return i;
      }
    }
    throw new IllegalArgumentException("name cannot be split into ustar prefix and name");
  }

  private void writeExtension(String name, char flag, byte[] data) {
    byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
    var meta = new TestLayers.Entry(Arrays.copyOf(bytes, Math.min(100, bytes.length)), flag);
    out.writeBytes(header(meta, meta.rawName, new byte[0], new byte[0], data.length));
    writePadded(data);
  }

  private void writePadded(byte[] data) {
    out.writeBytes(data);
    int pad = (BLOCK - data.length % BLOCK) % BLOCK;
    out.writeBytes(new byte[pad]);
  }

  private static byte[] nulTerminated(byte[] bytes) {
    return Arrays.copyOf(bytes, bytes.length + 1);
  }

  /** PAX records: the length prefix counts itself, so find the fixed point. */
  static byte[] paxData(Map<String, byte[]> records) {
    var data = new ByteArrayOutputStream();
    for (var record : records.entrySet()) {
      var bodyBytes = new ByteArrayOutputStream();
      bodyBytes.writeBytes((" " + record.getKey() + "=").getBytes(StandardCharsets.UTF_8));
      bodyBytes.writeBytes(record.getValue());
      bodyBytes.write('\n');
      byte[] body = bodyBytes.toByteArray();
      int length = body.length + 1;
      while (length != body.length + String.valueOf(length).length()) {
        length = body.length + String.valueOf(length).length();
      }
      data.writeBytes(String.valueOf(length).getBytes(StandardCharsets.US_ASCII));
      data.writeBytes(body);
    }
    return data.toByteArray();
  }

  private static byte[] header(
      TestLayers.Entry e, byte[] name, byte[] prefix, byte[] link, long size) {
    byte[] h = new byte[BLOCK];
    put(h, 0, 100, name);
    number(h, 100, 8, e.mode, e.base256Numbers);
    number(h, 108, 8, e.uid, e.base256Numbers);
    number(h, 116, 8, e.gid, e.base256Numbers);
    number(h, 124, 12, size, e.base256Numbers);
    number(h, 136, 12, e.mtime, e.base256Numbers);
    h[156] = (byte) e.typeFlag;
    put(h, 157, 100, link);
    put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
    put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
    put(h, 265, 32, e.uname.getBytes(StandardCharsets.UTF_8));
    put(h, 297, 32, e.gname.getBytes(StandardCharsets.UTF_8));
    number(h, 329, 8, e.devMajor, false);
    number(h, 337, 8, e.devMinor, false);
    put(h, 345, 155, prefix);
    Arrays.fill(h, 148, 156, (byte) ' ');
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    byte[] checksum = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(checksum, 0, h, 148, 8);
    return h;
  }

  private static void put(byte[] h, int at, int length, byte[] value) {
    if (value.length > length) {
      throw new IllegalArgumentException(
          "field of " + length + " bytes cannot hold " + value.length);
    }
    System.arraycopy(value, 0, h, at, value.length);
  }

  /** Octal with a NUL when it fits, else GNU base-256 (two's complement, top bit set). */
  private static void number(byte[] h, int at, int length, long value, boolean base256) {
    String octal = Long.toOctalString(value);
    if (!base256 && value >= 0 && octal.length() < length) {
      String padded = "0".repeat(length - 1 - octal.length()) + octal;
      put(h, at, length, (padded + "\0").getBytes(StandardCharsets.US_ASCII));
      return;
    }
    long v = value;
    for (int i = length - 1; i >= 0; i--) {
      h[at + i] = (byte) v;
      v >>= 8;
    }
    h[at] = (byte) (value < 0 ? 0xff : 0x80);
  }
}
