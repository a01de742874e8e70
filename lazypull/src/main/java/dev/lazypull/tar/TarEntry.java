package dev.lazypull.tar;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.SortedMap;
import org.jspecify.annotations.Nullable;

/**
 * One file entry of a tar stream, with PAX, GNU long-name and ustar-prefix extensions already
 * applied.
 *
 * @param rawName the entry's name bytes exactly as the archive holds them
 * @param rawLinkName the link target bytes (empty unless hardlink or symlink)
 * @param tarHeaderOffset where the entry's first header (PAX/GNU extension headers included) starts
 *     in the uncompressed stream
 * @param uncompressedOffset where the entry's data starts in the uncompressed stream
 * @param size data bytes that follow the header
 * @param paxRecords all PAX records of the entry, sorted by key (global headers excluded)
 * @param sparse true for a GNU ('S') or PAX (GNU.sparse.*) sparse file, whose data is a map and not
 *     the file's bytes
 */
public record TarEntry(
    byte[] rawName,
    TarEntryType type,
    long tarHeaderOffset,
    long uncompressedOffset,
    long size,
    byte[] rawLinkName,
    long mode,
    long uid,
    long gid,
    String uname,
    String gname,
    Instant modTime,
    long devMajor,
    long devMinor,
    SortedMap<String, byte[]> paxRecords,
    boolean sparse) {

  /** The name as text: UTF-8 when the bytes are valid UTF-8, else ISO-8859-1 byte per char. */
  public String name() {
    return text(rawName);
  }

  /** The link target as text, decoded like {@link #name()}. */
  public String linkName() {
    return text(rawLinkName);
  }

  /** Decodes name bytes: strict UTF-8, falling back to one char per byte. */
  public static String text(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return new String(bytes, StandardCharsets.ISO_8859_1);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TarEntry e
        && Arrays.equals(rawName, e.rawName)
        && type == e.type
        && tarHeaderOffset == e.tarHeaderOffset
        && uncompressedOffset == e.uncompressedOffset
        && size == e.size
        && Arrays.equals(rawLinkName, e.rawLinkName)
        && mode == e.mode
        && uid == e.uid
        && gid == e.gid
        && uname.equals(e.uname)
        && gname.equals(e.gname)
        && modTime.equals(e.modTime)
        && devMajor == e.devMajor
        && devMinor == e.devMinor
        && samePax(paxRecords, e.paxRecords)
        && sparse == e.sparse;
  }

  private static boolean samePax(SortedMap<String, byte[]> a, SortedMap<String, byte[]> b) {
    return a.keySet().equals(b.keySet())
        && a.entrySet().stream().allMatch(r -> Arrays.equals(r.getValue(), b.get(r.getKey())));
  }

  /** The PAX record {@code key} as UTF-8 text, or null when absent. */
  public @Nullable String paxText(String key) {
    byte[] value = paxRecords.get(key);
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(rawName), type, uncompressedOffset, size);
  }

  @Override
  public String toString() {
    return "TarEntry["
        + name()
        + ", "
        + type
        + ", offset "
        + uncompressedOffset
        + ", size "
        + size
        + "]";
  }
}
