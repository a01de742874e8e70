package dev.lazypull.tar;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rewrites a local tar file so that each sparse file (old GNU 'S', PAX 0.1 or PAX 1.0) becomes a
 * plain regular file holding its whole content, as Go's archive/tar presents it to containerd. A
 * zTOC cannot describe sparse files, so layers holding them are fetched whole; once expanded, their
 * files are read at plain offsets like any other. Holes stay holes in the output file.
 */
public final class SparseExpander {
  private static final int BLOCK = TarReader.BLOCK;

  /** A sparse map with more regions than this is refused rather than held in memory. */
  static final int MAX_REGIONS = 1 << 20;

  private SparseExpander() {}

  /** One stored region of a sparse file: {@code length} bytes at file offset {@code offset}. */
  record Region(long offset, long length) {}

  /** A sparse file's map, its real size and where its stored bytes start in the tar. */
  record SparseMap(List<Region> regions, long realSize, long storedStart, long storedLength) {}

  /**
   * Writes {@code tar} to {@code out} with every sparse file expanded.
   *
   * @return false, writing nothing, when the tar holds no sparse file
   * @throws TarFormatException for a sparse map that is malformed or of the old PAX 0.0 format
   */
  public static boolean expand(Path tar, Path out) throws IOException {
    List<TarEntry> sparse = new ArrayList<>();
    try (InputStream in = new BufferedInputStream(Files.newInputStream(tar), 1 << 16)) {
      TarReader reader = new TarReader(in);
      for (TarEntry entry = reader.next(); entry != null; entry = reader.next()) {
        if (entry.sparse()) {
          sparse.add(entry);
        }
      }
    }
    if (sparse.isEmpty()) {
      return false;
    }
    try (FileChannel source = FileChannel.open(tar, StandardOpenOption.READ);
        FileChannel target =
            FileChannel.open(
                out,
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
      long copiedTo = 0;
      for (TarEntry entry : sparse) {
        copy(source, copiedTo, entry.tarHeaderOffset() - copiedTo, target);
        SparseMap map = readMap(source, entry);
        target.write(ByteBuffer.wrap(headers(entry, map.realSize())));
        long dataStart = target.position();
        long storedOffset = map.storedStart();
        for (Region region : map.regions()) {
          target.position(dataStart + region.offset());
          copy(source, storedOffset, region.length(), target);
          storedOffset += region.length();
        }
        long end = dataStart + TarReader.padded(map.realSize());
        if (target.size() < end) {
          target.write(ByteBuffer.allocate(1), end - 1); // the file's length; holes read as zeros
        }
        target.position(end);
        copiedTo = entry.uncompressedOffset() + TarReader.padded(entry.size());
      }
      copy(source, copiedTo, source.size() - copiedTo, target);
    }
    return true;
  }

  private static void copy(FileChannel source, long from, long count, FileChannel target)
      throws IOException {
    long done = 0;
    while (done < count) {
      long n = source.transferTo(from + done, count - done, target);
      if (n <= 0) {
        throw new TarFormatException("tar file ends at offset " + (from + done) + " inside data");
      }
      done += n;
    }
  }

  static SparseMap readMap(FileChannel tar, TarEntry entry) throws IOException {
    String major = entry.paxText("GNU.sparse.major");
    SparseMap map;
    if ("1".equals(major)) {
      map = pax10(tar, entry);
    } else if (entry.paxRecords().containsKey("GNU.sparse.map")) {
      map = pax01(entry);
    } else if (entry.paxRecords().containsKey("GNU.sparse.offset")
        || entry.paxRecords().containsKey("GNU.sparse.numbytes")
        || major != null) {
      throw bad(
          entry, "uses a PAX sparse format other than 0.1 and 1.0, which lazypull cannot read");
    } else {
      map = oldGnu(tar, entry);
    }
    check(entry, map);
    return map;
  }

  /** PAX 0.1: the map is the record GNU.sparse.map, "offset,length,offset,length...". */
  private static SparseMap pax01(TarEntry entry) throws TarFormatException {
    String text = String.valueOf(entry.paxText("GNU.sparse.map"));
    String[] numbers = text.isEmpty() ? new String[0] : text.split(",", -1);
    if (numbers.length % 2 != 0 || numbers.length / 2 > MAX_REGIONS) {
      throw bad(entry, "has a GNU.sparse.map record of " + numbers.length + " numbers");
    }
    List<Region> regions = new ArrayList<>();
    for (int i = 0; i < numbers.length; i += 2) {
      regions.add(new Region(number(entry, numbers[i]), number(entry, numbers[i + 1])));
    }
    long realSize = number(entry, String.valueOf(entry.paxText("GNU.sparse.size")));
    return new SparseMap(regions, realSize, entry.uncompressedOffset(), entry.size());
  }

  /** PAX 1.0: the map is decimal lines at the start of the data, padded to a block. */
  private static SparseMap pax10(FileChannel tar, TarEntry entry) throws IOException {
    var lines = new DecimalLines(tar, entry);
    long count = lines.next();
    if (count < 0 || count > MAX_REGIONS) {
      throw bad(entry, "has a sparse map of " + count + " regions");
    }
    List<Region> regions = new ArrayList<>();
    for (long i = 0; i < count; i++) {
      regions.add(new Region(lines.next(), lines.next()));
    }
    long mapBytes = TarReader.padded(lines.consumed);
    long realSize = number(entry, String.valueOf(entry.paxText("GNU.sparse.realsize")));
    return new SparseMap(
        regions, realSize, entry.uncompressedOffset() + mapBytes, entry.size() - mapBytes);
  }

  /** Old GNU: up to 4 regions in the 'S' header, 21 more in each extension block after it. */
  private static SparseMap oldGnu(FileChannel tar, TarEntry entry) throws IOException {
    long at = entry.tarHeaderOffset();
    byte[] block = readBlock(tar, at, entry);
    while (block[156] != 'S') {
      byte flag = block[156];
      if (flag != 'L' && flag != 'K' && flag != 'x' && flag != 'g') {
        throw bad(entry, "has no GNU sparse header");
      }
      at += BLOCK + TarReader.padded(field(entry, block, 124, 12));
      block = readBlock(tar, at, entry);
    }
    List<Region> regions = new ArrayList<>();
    addRegions(entry, block, 386, 4, regions);
    long realSize = field(entry, block, 483, 12);
    boolean extended = block[482] != 0;
    while (extended) {
      at += BLOCK;
      byte[] extension = readBlock(tar, at, entry);
      addRegions(entry, extension, 0, 21, regions);
      extended = extension[504] != 0;
    }
    return new SparseMap(regions, realSize, entry.uncompressedOffset(), entry.size());
  }

  private static void addRegions(
      TarEntry entry, byte[] block, int from, int count, List<Region> regions)
      throws TarFormatException {
    for (int i = 0; i < count; i++) {
      int at = from + 24 * i;
      if (block[at] == 0 && block[at + 12] == 0) {
        return; // an unused slot ends the list
      }
      if (regions.size() >= MAX_REGIONS) {
        throw bad(entry, "has more than " + MAX_REGIONS + " sparse regions");
      }
      regions.add(new Region(field(entry, block, at, 12), field(entry, block, at + 12, 12)));
    }
  }

  /** Regions must be in order, inside the file, and hold exactly the stored bytes. */
  private static void check(TarEntry entry, SparseMap map) throws TarFormatException {
    if (map.realSize() < 0 || map.realSize() > TarReader.MAX_SIZE || map.storedLength() < 0) {
      throw bad(entry, "has a real size of " + map.realSize());
    }
    long end = 0;
    long stored = 0;
    for (Region region : map.regions()) {
      if (region.offset() < end
          || region.length() < 0
          || region.offset() + region.length() > map.realSize()) {
        throw bad(entry, "has a sparse region " + region + " out of order or past the file's end");
      }
      end = region.offset() + region.length();
      stored += region.length();
    }
    if (stored != map.storedLength()) {
      throw bad(
          entry,
          "has a sparse map for " + stored + " bytes but stores " + map.storedLength() + " bytes");
    }
  }

  /** The headers of the expanded entry: a GNU long name if needed, PAX records, a '0' header. */
  private static byte[] headers(TarEntry entry, long realSize) {
    byte[] sparseName = entry.paxRecords().get("GNU.sparse.name");
    byte[] name = sparseName != null ? sparseName : entry.rawName();
    var out = new java.io.ByteArrayOutputStream();
    if (name.length > 100) {
      byte[] data = Arrays.copyOf(name, name.length + 1);
      out.writeBytes(
          header("././@LongLink".getBytes(StandardCharsets.US_ASCII), 'L', data.length, entry));
      writePadded(out, data);
    }
    Map<String, byte[]> kept = new LinkedHashMap<>();
    entry
        .paxRecords()
        .forEach(
            (key, value) -> {
              if (!key.startsWith("GNU.sparse.") && !key.equals("path") && !key.equals("size")) {
                kept.put(key, value);
              }
            });
    if (!kept.isEmpty()) {
      byte[] data = paxData(kept);
      out.writeBytes(
          header("PaxHeader".getBytes(StandardCharsets.US_ASCII), 'x', data.length, entry));
      writePadded(out, data);
    }
    out.writeBytes(header(Arrays.copyOf(name, Math.min(100, name.length)), '0', realSize, entry));
    return out.toByteArray();
  }

  private static void writePadded(java.io.ByteArrayOutputStream out, byte[] data) {
    out.writeBytes(data);
    out.writeBytes(new byte[(int) (TarReader.padded(data.length) - data.length)]);
  }

  /** PAX records; each length prefix counts its own digits, so it is found as a fixed point. */
  static byte[] paxData(Map<String, byte[]> records) {
    var data = new java.io.ByteArrayOutputStream();
    for (var record : records.entrySet()) {
      byte[] key = (" " + record.getKey() + "=").getBytes(StandardCharsets.UTF_8);
      int body = key.length + record.getValue().length + 1;
      int length = body + 1;
      while (length != body + String.valueOf(length).length()) {
        length = body + String.valueOf(length).length();
      }
      data.writeBytes(String.valueOf(length).getBytes(StandardCharsets.US_ASCII));
      data.writeBytes(key);
      data.writeBytes(record.getValue());
      data.write('\n');
    }
    return data.toByteArray();
  }

  private static byte[] header(byte[] name, char type, long size, TarEntry entry) {
    byte[] h = new byte[BLOCK];
    System.arraycopy(name, 0, h, 0, name.length);
    number(h, 100, 8, entry.mode());
    number(h, 108, 8, entry.uid());
    number(h, 116, 8, entry.gid());
    number(h, 124, 12, size);
    number(h, 136, 12, entry.modTime().getEpochSecond());
    h[156] = (byte) type;
    byte[] magic = ("ustar\0" + "00").getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(magic, 0, h, 257, magic.length);
    text(h, 265, 32, entry.uname());
    text(h, 297, 32, entry.gname());
    Arrays.fill(h, 148, 156, (byte) ' ');
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    byte[] checksum = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(checksum, 0, h, 148, 8);
    return h;
  }

  private static void text(byte[] h, int at, int length, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(bytes, 0, h, at, Math.min(length - 1, bytes.length));
  }

  /** Octal with a NUL when it fits, else GNU base-256. */
  private static void number(byte[] h, int at, int length, long value) {
    String octal = Long.toOctalString(value);
    if (value >= 0 && octal.length() < length) {
      byte[] digits =
          ("0".repeat(length - 1 - octal.length()) + octal).getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(digits, 0, h, at, digits.length);
      return;
    }
    long v = value;
    for (int i = length - 1; i >= 0; i--) {
      h[at + i] = (byte) v;
      v >>= 8;
    }
    h[at] = (byte) (value < 0 ? 0xff : 0x80);
  }

  private static byte[] readBlock(FileChannel tar, long at, TarEntry entry) throws IOException {
    ByteBuffer block = ByteBuffer.allocate(BLOCK);
    while (block.hasRemaining()) {
      if (tar.read(block, at + block.position()) < 0) {
        throw bad(entry, "is cut short inside its sparse headers");
      }
    }
    return block.array();
  }

  private static long field(TarEntry entry, byte[] block, int at, int length)
      throws TarFormatException {
    try {
      return TarNumbers.parse(block, at, length);
    } catch (NumberFormatException e) {
      throw bad(entry, "has a bad sparse header field: " + e.getMessage());
    }
  }

  private static long number(TarEntry entry, String text) throws TarFormatException {
    try {
      return Long.parseLong(text.strip());
    } catch (NumberFormatException e) {
      throw bad(entry, "has a bad number '" + text + "' in its sparse map");
    }
  }

  private static TarFormatException bad(TarEntry entry, String what) {
    return new TarFormatException("sparse file '" + entry.name() + "' " + what);
  }

  /** Reads the decimal lines of a PAX 1.0 sparse map from the entry's data, bounded by it. */
  private static final class DecimalLines {
    private final FileChannel tar;
    private final TarEntry entry;
    private final ByteBuffer buffer = ByteBuffer.allocate(BLOCK);
    private long consumed;

    DecimalLines(FileChannel tar, TarEntry entry) {
      this.tar = tar;
      this.entry = entry;
      buffer.limit(0);
    }

    long next() throws IOException {
      long value = 0;
      int digits = 0;
      while (true) {
        if (!buffer.hasRemaining()) {
          refill();
        }
        byte b = buffer.get();
        consumed++;
        if (b == '\n') {
          if (digits == 0) {
            throw bad(entry, "has an empty line in its sparse map");
          }
          return value;
        }
        if (b < '0' || b > '9' || ++digits > 18) {
          throw bad(entry, "has a malformed sparse map");
        }
        value = value * 10 + (b - '0');
      }
    }

    private void refill() throws IOException {
      if (consumed >= entry.size()) {
        throw bad(entry, "has a sparse map longer than its data");
      }
      buffer.clear();
      buffer.limit((int) Math.min(BLOCK, entry.size() - consumed));
      int n = tar.read(buffer, entry.uncompressedOffset() + consumed);
      if (n <= 0) {
        throw bad(entry, "is cut short inside its sparse map");
      }
      buffer.flip();
    }
  }
}
