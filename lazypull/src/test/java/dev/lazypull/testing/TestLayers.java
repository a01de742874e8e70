package dev.lazypull.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Builds tar and tar.gz layers in code, with control over every header field: raw name bytes, entry
 * types, PAX records, xattrs, GNU long names, whiteouts, odd numeric fields.
 *
 * <pre>{@code
 * TestLayers.Tar tar = TestLayers.tar()
 *     .dir("etc/")
 *     .file("etc/hosts", "127.0.0.1 localhost\n")
 *     .symlink("bin", "usr/bin")
 *     .whiteout("etc/old.conf")
 *     .build();
 * byte[] layer = TestLayers.gzip(tar.bytes());
 * long offset = tar.dataOffset("etc/hosts");
 * }</pre>
 */
public final class TestLayers {

  /** How a name longer than the 100-byte header field is written. */
  public enum LongNames {
    /** GNU 'L' / 'K' records before the header (GNU tar's default). */
    GNU,
    /** PAX {@code path} / {@code linkpath} records. */
    PAX,
    /** The ustar prefix field (names up to 255 bytes split at a slash). */
    USTAR_PREFIX
  }

  private TestLayers() {}

  /** A new tar builder; GNU long names, mtime 1700000000, uid/gid 0. */
  public static TarBuilder tar() {
    return new TarBuilder();
  }

  /** Gzips {@code tar} as one member at the default level. */
  public static byte[] gzip(byte[] tar) {
    return gzip(tar, Deflater.DEFAULT_COMPRESSION);
  }

  /** Gzips {@code tar} as one member at {@code level}. */
  public static byte[] gzip(byte[] tar, int level) {
    var out = new ByteArrayOutputStream(tar.length / 2 + 64);
    try (var gz = new LeveledGzip(out, level)) {
      gz.write(tar);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Gzips {@code tar} as several concatenated members, cut at the given uncompressed offsets. */
  public static byte[] gzipMembers(byte[] tar, long... cuts) {
    return gzipMembersPadded(tar, 0, cuts);
  }

  /** Like {@link #gzipMembers} with {@code zeros} zero bytes after every member but the last. */
  public static byte[] gzipMembersPadded(byte[] tar, int zeros, long... cuts) {
    var out = new ByteArrayOutputStream();
    long start = 0;
    for (int i = 0; i <= cuts.length; i++) {
      long end = i < cuts.length ? cuts[i] : tar.length;
      byte[] part = java.util.Arrays.copyOfRange(tar, (int) start, (int) end);
      out.writeBytes(gzip(part));
      if (i < cuts.length) {
        out.writeBytes(new byte[zeros]);
      }
      start = end;
    }
    return out.toByteArray();
  }

  /**
   * Gzips {@code tar} as one member whose header carries every optional field of RFC 1952: FTEXT,
   * FEXTRA (one subfield), FNAME, FCOMMENT and FHCRC (the header's CRC-16, which zlib checks).
   */
  public static byte[] gzipWithEveryHeaderField(byte[] tar) {
    var out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 0x1f, 0x12, 0x34, 0x56, 0x78, 0, 3});
    byte[] extra = {'l', 'p', 4, 0, 1, 2, 3, 4};
    out.write(extra.length);
    out.write(0);
    out.writeBytes(extra);
    out.writeBytes("layer.tar\0".getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes("a comment\nwith a newline\0".getBytes(StandardCharsets.ISO_8859_1));
    var headerCrc = new java.util.zip.CRC32();
    headerCrc.update(out.toByteArray());
    littleEndian(out, headerCrc.getValue(), 2);
    var deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    deflater.setInput(tar);
    deflater.finish();
    byte[] buffer = new byte[1 << 16];
    while (!deflater.finished()) {
      out.write(buffer, 0, deflater.deflate(buffer));
    }
    deflater.end();
    var crc = new java.util.zip.CRC32();
    crc.update(tar);
    littleEndian(out, crc.getValue(), 4);
    littleEndian(out, tar.length, 4);
    return out.toByteArray();
  }

  private static void littleEndian(ByteArrayOutputStream out, long value, int bytes) {
    for (int i = 0; i < bytes; i++) {
      out.write((int) (value >>> (8 * i)) & 0xff);
    }
  }

  /** {@code size} bytes that do not compress, the same for the same seed. */
  public static byte[] randomBytes(long seed, int size) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** {@code size} bytes of text-like data that compresses about 3:1. */
  public static byte[] textBytes(long seed, int size) {
    String[] words = {
      "lazy",
      "pull",
      "span",
      "zTOC",
      "layer",
      "checkpoint",
      "inflate",
      "tar",
      "registry",
      "window",
      "\n",
      "fuse",
      "overlay",
      "digest",
      "0x",
      "{",
      "}",
      ";"
    };
    Random random = new Random(seed);
    var out = new StringBuilder(size + 16);
    while (out.length() < size) {
      out.append(words[random.nextInt(words.length)]).append(random.nextInt(1000)).append(' ');
    }
    return out.substring(0, size).getBytes(StandardCharsets.ISO_8859_1);
  }

  /** One entry to write; every field is under the test's control. */
  public static final class Entry {
    byte[] rawName;
    char typeFlag;
    byte[] data = new byte[0];
    byte[] rawLinkName = new byte[0];
    long mode = 0644;
    long uid;
    long gid;
    String uname = "";
    String gname = "";
    long mtime = 1700000000L;
    long devMajor;
    long devMinor;
    final SortedMap<String, byte[]> pax = new TreeMap<>();
    Long headerSize;
    boolean base256Numbers;

    Entry(byte[] rawName, char typeFlag) {
      this.rawName = rawName;
      this.typeFlag = typeFlag;
    }

    /** Replaces the entry's name by any bytes, UTF-8 or not. */
    public Entry name(byte[] rawName) {
      this.rawName = rawName.clone();
      return this;
    }

    /** Sets the entry's data. */
    public Entry data(byte[] data) {
      this.data = data.clone();
      return this;
    }

    /** Sets the link target bytes (for '1' and '2' entries), UTF-8 or not. */
    public Entry linkTo(byte[] rawLinkName) {
      this.rawLinkName = rawLinkName.clone();
      return this;
    }

    public Entry mode(long mode) {
      this.mode = mode;
      return this;
    }

    public Entry owner(long uid, long gid, String uname, String gname) {
      this.uid = uid;
      this.gid = gid;
      this.uname = uname;
      this.gname = gname;
      return this;
    }

    public Entry mtime(long epochSeconds) {
      this.mtime = epochSeconds;
      return this;
    }

    /** Adds a PAX record (written in an 'x' header before this entry). */
    public Entry pax(String key, String value) {
      return pax(key, value.getBytes(StandardCharsets.UTF_8));
    }

    /** Adds a PAX record with a value of any bytes. */
    public Entry pax(String key, byte[] value) {
      pax.put(key, value.clone());
      return this;
    }

    /** Adds a file xattr as the PAX record {@code SCHILY.xattr.<name>}. */
    public Entry xattr(String name, String value) {
      return pax("SCHILY.xattr." + name, value);
    }

    /** Adds a binary file xattr ({@code SCHILY.xattr.<name>}). */
    public Entry xattr(String name, byte[] value) {
      return pax("SCHILY.xattr." + name, value);
    }

    /** Writes {@code size} in the header's size field instead of the data length. */
    public Entry headerSize(long size) {
      this.headerSize = size;
      return this;
    }

    /** Writes numeric fields in GNU base-256 even when octal would fit. */
    public Entry base256() {
      this.base256Numbers = true;
      return this;
    }
  }

  /** A built tar: its bytes and where each entry's header and data start. */
  public record Tar(byte[] bytes, Map<String, Long> dataOffsets, Map<String, Long> headerOffsets) {

    /** The uncompressed offset of the data of the entry whose name (as text) is {@code name}. */
    public long dataOffset(String name) {
      Long offset = dataOffsets.get(name);
      if (offset == null) {
        throw new IllegalArgumentException(
            "no entry named " + name + " in " + dataOffsets.keySet());
      }
      return offset;
    }
  }

  /** Collects entries and writes them as one tar stream. */
  public static final class TarBuilder {
    private final List<Object> items = new ArrayList<>();
    private LongNames longNames = LongNames.GNU;
    private boolean endMarker = true;

    public TarBuilder longNames(LongNames style) {
      this.longNames = style;
      return this;
    }

    /** Leaves out the two zero blocks that end an archive. */
    public TarBuilder withoutEndMarker() {
      this.endMarker = false;
      return this;
    }

    /** Adds an entry and returns it for further settings. */
    public Entry add(byte[] rawName, char typeFlag) {
      Entry entry = new Entry(rawName, typeFlag);
      items.add(entry);
      return entry;
    }

    public Entry add(String name, char typeFlag) {
      return add(name.getBytes(StandardCharsets.UTF_8), typeFlag);
    }

    public TarBuilder file(String name, byte[] data) {
      add(name, '0').data = data;
      return this;
    }

    public TarBuilder file(String name, String text) {
      return file(name, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Adds a regular file and returns its entry for more settings. */
    public Entry fileEntry(String name, byte[] data) {
      Entry entry = add(name, '0');
      entry.data = data;
      return entry;
    }

    public TarBuilder dir(String name) {
      add(name, '5').mode = 0755;
      return this;
    }

    public TarBuilder symlink(String name, String target) {
      add(name, '2').rawLinkName = target.getBytes(StandardCharsets.UTF_8);
      return this;
    }

    public TarBuilder hardlink(String name, String target) {
      add(name, '1').rawLinkName = target.getBytes(StandardCharsets.UTF_8);
      return this;
    }

    public TarBuilder charDevice(String name, long major, long minor) {
      Entry e = add(name, '3');
      e.devMajor = major;
      e.devMinor = minor;
      return this;
    }

    public TarBuilder blockDevice(String name, long major, long minor) {
      Entry e = add(name, '4');
      e.devMajor = major;
      e.devMinor = minor;
      return this;
    }

    public TarBuilder fifo(String name) {
      add(name, '6');
      return this;
    }

    /** An overlay whiteout: deletes {@code path} of lower layers ({@code dir/.wh.name}). */
    public TarBuilder whiteout(String path) {
      int slash = path.lastIndexOf('/');
      String dir = path.substring(0, slash + 1);
      add(dir + ".wh." + path.substring(slash + 1), '0');
      return this;
    }

    /** An opaque-directory marker: hides all lower-layer content of {@code dir}. */
    public TarBuilder opaqueWhiteout(String dir) {
      add((dir.endsWith("/") ? dir : dir + "/") + ".wh..wh..opq", '0');
      return this;
    }

    /** A PAX global header ('g') with the given records. */
    public TarBuilder paxGlobal(Map<String, String> records) {
      Map<String, byte[]> bytes = new LinkedHashMap<>();
      records.forEach((k, v) -> bytes.put(k, v.getBytes(StandardCharsets.UTF_8)));
      items.add(new GlobalHeader(bytes));
      return this;
    }

    /** An old GNU sparse entry ('S') whose data is {@code data} (the stored parts). */
    public TarBuilder gnuSparse(String name, byte[] data) {
      add(name, 'S').data = data;
      return this;
    }

    public Tar build() {
      var writer = new TarWriter(longNames);
      for (Object item : items) {
        if (item instanceof Entry e) {
          writer.write(e);
        } else if (item instanceof GlobalHeader g) {
          writer.writeGlobal(g.records());
        }
      }
      return writer.finish(endMarker);
    }
  }

  record GlobalHeader(Map<String, byte[]> records) {}

  private static final class LeveledGzip extends GZIPOutputStream {
    LeveledGzip(ByteArrayOutputStream out, int level) throws IOException {
      super(out, 1 << 16);
      def.setLevel(level);
    }
  }
}
