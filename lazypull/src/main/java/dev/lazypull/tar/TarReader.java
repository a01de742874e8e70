package dev.lazypull.tar;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Reads tar headers from a stream and skips the data between them, counting every byte so that each
 * entry's data offset is exact. Understands ustar (with prefix), GNU long names and links
 * ('L'/'K'), PAX extended headers ('x') and skips PAX global headers ('g') the way containerd does.
 * Never buffers file data.
 */
public final class TarReader {

  static final int BLOCK = 512;

  /** Sizes above this are refused: no layer holds a 16 TiB file, a corrupt header may. */
  static final long MAX_SIZE = 1L << 44;

  /** Extension headers (PAX, GNU long names) are read into memory; bound them. */
  static final int MAX_EXTENSION_SIZE = 16 << 20;

  private final InputStream in;
  private final byte[] header = new byte[BLOCK];
  private long position;
  private long nextHeaderOffset;
  private boolean ended;

  public TarReader(InputStream in) {
    this.in = in;
  }

  /** Bytes consumed from the underlying stream so far. */
  public long position() {
    return position;
  }

  /** The next file entry, or null at the end-of-archive marker or end of stream. */
  public @Nullable TarEntry next() throws IOException {
    if (ended) {
      return null;
    }
    skipTo(nextHeaderOffset);
    long tarHeaderOffset = position;
    Extensions ext = new Extensions();
    while (true) {
      long headerOffset = position;
      if (!readHeader()) {
        ended = true;
        return null;
      }
      byte flag = header[156];
      long size = parseSize(headerOffset, ext);
      switch (flag) {
        case 'x' -> ext.pax(PaxRecords.parse(readExtension(size, headerOffset), headerOffset));
        case 'g' -> skipExtension(size);
        case 'L' -> ext.longName = trimNul(readExtension(size, headerOffset));
        case 'K' -> ext.longLink = trimNul(readExtension(size, headerOffset));
        default -> {
          if (flag == 'S' && header[482] != 0) {
            skipSparseExtensionBlocks(headerOffset);
          }
          TarEntry entry = entry(flag, size, tarHeaderOffset, ext);
          // The data skipped is the entry's size (a PAX size record wins over the header's), and
          // none at all for types without data: Go's archive/tar, which containerd uses, reads
          // the next header right after a link's, directory's or device's header.
          nextHeaderOffset = position + padded(entry.size());
          return entry;
        }
      }
    }
  }

  private TarEntry entry(byte flag, long headerSize, long tarHeaderOffset, Extensions ext)
      throws TarFormatException {
    byte[] rawName = ext.name(header);
    TarEntryType type = type(flag, rawName, tarHeaderOffset);
    long size = ext.paxLong("size", headerSize, rawName);
    checkSize(size, rawName, tarHeaderOffset);
    if (type != TarEntryType.REGULAR) {
      size = 0;
    }
    boolean sparse = flag == 'S' || ext.hasSparseKeys();
    return new TarEntry(
        rawName,
        type,
        tarHeaderOffset,
        position,
        size,
        ext.linkName(header),
        octal(100, 8, "mode", rawName),
        ext.paxLong("uid", octal(108, 8, "uid", rawName), rawName),
        ext.paxLong("gid", octal(116, 8, "gid", rawName), rawName),
        ext.paxText("uname", field(265, 32)),
        ext.paxText("gname", field(297, 32)),
        ext.modTime(octal(136, 12, "mtime", rawName), rawName),
        isUstar() ? octal(329, 8, "devmajor", rawName) : 0,
        isUstar() ? octal(337, 8, "devminor", rawName) : 0,
        Collections.unmodifiableSortedMap(ext.pax),
        sparse);
  }

  private static TarEntryType type(byte flag, byte[] rawName, long offset)
      throws TarFormatException {
    // Old (V7) archives mark directories by a trailing slash on a type NUL entry; Go's
    // archive/tar, and so containerd, makes them directories.
    if (flag == 0 && rawName.length > 0 && rawName[rawName.length - 1] == '/') {
      return TarEntryType.DIRECTORY;
    }
    return switch (flag) {
      case '0', 0, '7', 'S' -> TarEntryType.REGULAR;
      case '1' -> TarEntryType.HARDLINK;
      case '2' -> TarEntryType.SYMLINK;
      case '3' -> TarEntryType.CHAR_DEVICE;
      case '4' -> TarEntryType.BLOCK_DEVICE;
      case '5' -> TarEntryType.DIRECTORY;
      case '6' -> TarEntryType.FIFO;
      default ->
          throw new TarFormatException(
              "tar entry '"
                  + TarEntry.text(rawName)
                  + "' at offset "
                  + offset
                  + " has unsupported type '"
                  + (char) flag
                  + "' (0x"
                  + Integer.toHexString(flag & 0xff)
                  + ")");
    };
  }

  /** Reads one header block; false at end of archive (zero block or clean end of stream). */
  private boolean readHeader() throws IOException {
    int n = in.readNBytes(header, 0, BLOCK);
    position += n;
    if (n == 0) {
      return false;
    }
    if (n < BLOCK) {
      throw new TarFormatException(
          "tar stream ends inside a header at offset " + (position - n) + " (truncated layer?)");
    }
    if (isZeroBlock()) {
      return false;
    }
    verifyChecksum(position - BLOCK);
    return true;
  }

  private boolean isZeroBlock() {
    for (byte b : header) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  private void verifyChecksum(long offset) throws TarFormatException {
    long stored = parseOctal(header, 148, 8);
    long unsigned = 0;
    long signed = 0;
    for (int i = 0; i < BLOCK; i++) {
      int b = (i >= 148 && i < 156) ? ' ' : header[i];
      unsigned += b & 0xff;
      signed += b;
    }
    if (stored != unsigned && stored != signed) {
      throw new TarFormatException(
          "tar header at offset "
              + offset
              + " has a bad checksum (stored "
              + stored
              + ", computed "
              + unsigned
              + "): not a tar stream or corrupt");
    }
  }

  private long parseSize(long offset, Extensions ext) throws TarFormatException {
    byte[] name = ext.name(header);
    long size = numeric(124, 12, "size", name);
    checkSize(size, name, offset);
    return size;
  }

  private static void checkSize(long size, byte[] name, long offset) throws TarFormatException {
    if (size < 0 || size > MAX_SIZE) {
      throw new TarFormatException(
          "tar entry '"
              + TarEntry.text(name)
              + "' at offset "
              + offset
              + " has size "
              + size
              + ", outside [0, "
              + MAX_SIZE
              + "]: corrupt header");
    }
  }

  private long octal(int at, int length, String what, byte[] name) throws TarFormatException {
    return numeric(at, length, what, name);
  }

  private long numeric(int at, int length, String what, byte[] name) throws TarFormatException {
    try {
      return TarNumbers.parse(header, at, length);
    } catch (NumberFormatException e) {
      throw new TarFormatException(
          "tar entry '"
              + TarEntry.text(name)
              + "' has a bad "
              + what
              + " field: "
              + e.getMessage());
    }
  }

  private static long parseOctal(byte[] block, int at, int length) {
    try {
      return TarNumbers.parse(block, at, length);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private boolean isUstar() {
    return header[257] == 'u'
        && header[258] == 's'
        && header[259] == 't'
        && header[260] == 'a'
        && header[261] == 'r';
  }

  private String field(int at, int length) {
    return new String(trimNul(Arrays.copyOfRange(header, at, at + length)), StandardCharsets.UTF_8);
  }

  private byte[] readExtension(long size, long offset) throws IOException {
    if (size > MAX_EXTENSION_SIZE) {
      throw new TarFormatException(
          "tar extension header at offset "
              + offset
              + " is "
              + size
              + " bytes, over the "
              + MAX_EXTENSION_SIZE
              + "-byte limit");
    }
    byte[] data = in.readNBytes((int) size);
    position += data.length;
    if (data.length < size) {
      throw new TarFormatException(
          "tar stream ends inside the extension header at offset " + offset);
    }
    skipFully(padded(size) - size);
    return data;
  }

  // Old GNU sparse headers continue their sparse map in extra 512-byte blocks, each with an
  // "isextended" flag at byte 504; the entry's data starts after the last of them.
  private void skipSparseExtensionBlocks(long headerOffset) throws IOException {
    byte[] block = new byte[BLOCK];
    boolean more = true;
    while (more) {
      int n = in.readNBytes(block, 0, BLOCK);
      position += n;
      if (n < BLOCK) {
        throw new TarFormatException(
            "tar stream ends inside the sparse map of the entry at offset " + headerOffset);
      }
      more = block[504] != 0;
    }
  }

  private void skipExtension(long size) throws IOException {
    skipFully(padded(size));
  }

  private void skipTo(long offset) throws IOException {
    skipFully(offset - position);
  }

  private void skipFully(long count) throws IOException {
    long remaining = count;
    while (remaining > 0) {
      long skipped = in.skip(remaining);
      if (skipped <= 0) {
        if (in.read() < 0) {
          throw new EOFException(
              "tar stream ends at offset "
                  + position
                  + ", "
                  + remaining
                  + " bytes before the end of the last entry's data (truncated layer?)");
        }
        skipped = 1;
      }
      remaining -= skipped;
      position += skipped;
    }
  }

  static long padded(long size) {
    return (size + BLOCK - 1) & -BLOCK;
  }

  static byte[] trimNul(byte[] bytes) {
    int end = 0;
    while (end < bytes.length && bytes[end] != 0) {
      end++;
    }
    return end == bytes.length ? bytes : Arrays.copyOf(bytes, end);
  }

  /** What the extension headers before an entry said about it. */
  private static final class Extensions {
    final SortedMap<String, byte[]> pax = new TreeMap<>();
    byte @Nullable [] longName;
    byte @Nullable [] longLink;

    void pax(SortedMap<String, byte[]> records) {
      pax.putAll(records);
    }

    @Nullable String text(String key) {
      byte[] value = pax.get(key);
      return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }

    byte[] name(byte[] header) {
      byte[] path = pax.get("path");
      if (path != null && path.length > 0) {
        return path;
      }
      if (longName != null) {
        return longName;
      }
      byte[] name = trimNul(Arrays.copyOfRange(header, 0, 100));
      // Only POSIX ustar ("ustar\0") has a prefix field; GNU keeps atime/ctime there.
      boolean posix = header[257] == 'u' && header[262] == 0 && header[263] == '0';
      byte[] prefix = posix ? trimNul(Arrays.copyOfRange(header, 345, 500)) : new byte[0];
      if (prefix.length == 0) {
        return name;
      }
      byte[] joined = Arrays.copyOf(prefix, prefix.length + 1 + name.length);
      joined[prefix.length] = '/';
      System.arraycopy(name, 0, joined, prefix.length + 1, name.length);
      return joined;
    }

    byte[] linkName(byte[] header) {
      byte[] path = pax.get("linkpath");
      if (path != null && path.length > 0) {
        return path;
      }
      if (longLink != null) {
        return longLink;
      }
      return trimNul(Arrays.copyOfRange(header, 157, 257));
    }

    long paxLong(String key, long fallback, byte[] name) throws TarFormatException {
      String value = text(key);
      if (value == null || value.isEmpty()) {
        return fallback;
      }
      try {
        return Long.parseLong(value);
      } catch (NumberFormatException e) {
        throw new TarFormatException(
            "tar entry '" + TarEntry.text(name) + "' has a bad PAX " + key + " '" + value + "'");
      }
    }

    String paxText(String key, String fallback) {
      String value = text(key);
      return value == null ? fallback : value;
    }

    Instant modTime(long headerSeconds, byte[] name) throws TarFormatException {
      String value = text("mtime");
      if (value == null || value.isEmpty()) {
        return Instant.ofEpochSecond(headerSeconds);
      }
      try {
        return PaxRecords.parseTime(value);
      } catch (NumberFormatException e) {
        throw new TarFormatException(
            "tar entry '" + TarEntry.text(name) + "' has a bad PAX mtime '" + value + "'");
      }
    }

    boolean hasSparseKeys() {
      return pax.keySet().stream().anyMatch(k -> k.startsWith("GNU.sparse."));
    }
  }
}
