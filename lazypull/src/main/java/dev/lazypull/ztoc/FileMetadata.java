package dev.lazypull.ztoc;

import dev.lazypull.tar.TarEntryType;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * One tar entry as a zTOC lists it.
 *
 * @param name the raw tar name ({@code ./bin/sh}, {@code etc/}); see {@link #path()}
 * @param uncompressedOffset where the entry's data starts in the uncompressed tar stream
 * @param modTime RFC 3339 text as stored; see {@link #modTimeValue()}
 * @param xattrs all PAX records of the entry, sorted by key
 */
public record FileMetadata(
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

  public FileMetadata {
    xattrs = List.copyOf(xattrs);
  }

  /** The normalised path without leading slash ({@code bin/sh}; the root is empty). */
  public String path() {
    return TarPaths.clean(name);
  }

  /** The modification time with the zone offset it was written with. */
  public OffsetDateTime modTimeValue() {
    return ModTimes.parse(modTime);
  }

  /** The uncompressed offset one past the entry's data. */
  public long uncompressedEnd() {
    return uncompressedOffset + uncompressedSize;
  }
}
