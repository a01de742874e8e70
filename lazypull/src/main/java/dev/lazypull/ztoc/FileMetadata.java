package dev.lazypull.ztoc;

import dev.lazypull.tar.TarEntryType;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One tar entry as a zTOC lists it. The name and the link target are the tar's exact bytes, as
 * SOCI's zTOCs store them: tar names need not be UTF-8, and a filesystem must serve them exactly.
 *
 * @param nameBytes the raw tar name ({@code ./bin/sh}, {@code etc/}); see {@link #path()}
 * @param uncompressedOffset where the entry's data starts in the uncompressed tar stream
 * @param linkNameBytes the raw link target (empty unless hardlink or symlink)
 * @param modTime RFC 3339 text as stored; see {@link #modTimeValue()}
 * @param xattrs all PAX records of the entry, sorted by key
 */
public record FileMetadata(
    byte[] nameBytes,
    TarEntryType type,
    long uncompressedOffset,
    long uncompressedSize,
    byte[] linkNameBytes,
    long mode,
    long uid,
    long gid,
    String uname,
    String gname,
    String modTime,
    long devMajor,
    long devMinor,
    List<Xattr> xattrs) {

  public FileMetadata {
    nameBytes = nameBytes.clone();
    linkNameBytes = linkNameBytes.clone();
    xattrs = List.copyOf(xattrs);
  }

  /** An entry whose name and link target are UTF-8 text (tests and tools that make names). */
  public static FileMetadata ofText(
      String name,
      TarEntryType type,
      long uncompressedOffset,
      long uncompressedSize,
      String linkName,
      long mode,
      long uid,
      long gid,
      String uname,
      String gname,
      String modTime,
      long devMajor,
      long devMinor,
      List<Xattr> xattrs) {
    return new FileMetadata(
        name.getBytes(StandardCharsets.UTF_8),
        type,
        uncompressedOffset,
        uncompressedSize,
        linkName.getBytes(StandardCharsets.UTF_8),
        mode,
        uid,
        gid,
        uname,
        gname,
        modTime,
        devMajor,
        devMinor,
        xattrs);
  }

  /** The exact name bytes (a copy). */
  @Override
  public byte[] nameBytes() {
    return nameBytes.clone();
  }

  /** The exact link target bytes (a copy; empty unless hardlink or symlink). */
  @Override
  public byte[] linkNameBytes() {
    return linkNameBytes.clone();
  }

  /**
   * The name as text. Lossy when the name is not UTF-8 (bad bytes become U+FFFD): for display and
   * lookup only; use {@link #nameBytes()} to recreate the entry.
   */
  public String name() {
    return ByteText.lossyText(nameBytes);
  }

  /** The link target as text; lossy like {@link #name()}. */
  public String linkName() {
    return ByteText.lossyText(linkNameBytes);
  }

  /** True when the entry has a link target. */
  public boolean hasLinkName() {
    return linkNameBytes.length > 0;
  }

  /** The normalised path without leading slash ({@code bin/sh}; the root is empty), exact. */
  public byte[] pathBytes() {
    return TarPaths.clean(nameBytes);
  }

  /** {@link #pathBytes()} as text: lossy like {@link #name()}. */
  public String path() {
    return ByteText.lossyText(pathBytes());
  }

  /** The modification time with the zone offset it was written with. */
  public OffsetDateTime modTimeValue() {
    return ModTimes.parse(modTime);
  }

  /** The uncompressed offset one past the entry's data. */
  public long uncompressedEnd() {
    return uncompressedOffset + uncompressedSize;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FileMetadata f
        && Arrays.equals(nameBytes, f.nameBytes)
        && type == f.type
        && uncompressedOffset == f.uncompressedOffset
        && uncompressedSize == f.uncompressedSize
        && Arrays.equals(linkNameBytes, f.linkNameBytes)
        && mode == f.mode
        && uid == f.uid
        && gid == f.gid
        && uname.equals(f.uname)
        && gname.equals(f.gname)
        && modTime.equals(f.modTime)
        && devMajor == f.devMajor
        && devMinor == f.devMinor
        && xattrs.equals(f.xattrs);
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(nameBytes), type, uncompressedOffset, uncompressedSize);
  }

  @Override
  public String toString() {
    return "FileMetadata["
        + ByteText.textOrHex(nameBytes)
        + ", "
        + type
        + ", offset "
        + uncompressedOffset
        + ", size "
        + uncompressedSize
        + (hasLinkName() ? ", link " + ByteText.textOrHex(linkNameBytes) : "")
        + "]";
  }
}
