package dev.lazypull.estargz;

import dev.lazypull.oci.Digest;
import dev.lazypull.tar.TarEntry;
import dev.lazypull.tar.TarEntryType;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Makes TOC entries from tar entries, as the writer needs them. */
final class TocEntries {
  private static final String XATTR_PREFIX = "SCHILY.xattr.";

  private TocEntries() {}

  /** Only for entries whose name and link target are UTF-8: the writer refuses the others. */
  static TocEntry of(
      TarEntry entry,
      long compressedOffset,
      @Nullable Digest digest,
      @Nullable Digest chunkDigest,
      long chunkOffset,
      long chunkSize) {
    boolean device =
        entry.type() == TarEntryType.CHAR_DEVICE || entry.type() == TarEntryType.BLOCK_DEVICE;
    boolean regular = entry.type() == TarEntryType.REGULAR;
    return new TocEntry(
        entry.name(),
        entry.type().ztocName(),
        regular ? entry.size() : 0,
        modTime(entry.modTime()),
        entry.rawLinkName().length == 0 ? null : entry.linkName(),
        entry.mode(),
        (int) entry.uid(),
        (int) entry.gid(),
        emptyToNull(entry.uname()),
        emptyToNull(entry.gname()),
        compressedOffset,
        0,
        device ? (int) entry.devMajor() : 0,
        device ? (int) entry.devMinor() : 0,
        xattrs(entry),
        regular ? (digest == null ? emptyDigest(entry) : digest.toString()) : null,
        chunkOffset,
        chunkSize,
        chunkDigest == null ? null : chunkDigest.toString());
  }

  static TocEntry chunk(
      TarEntry entry, long compressedOffset, Digest chunkDigest, long chunkOffset, long chunkSize) {
    return new TocEntry(
        entry.name(),
        TocEntry.CHUNK,
        0,
        null,
        null,
        0,
        0,
        0,
        null,
        null,
        compressedOffset,
        0,
        0,
        0,
        null,
        null,
        chunkOffset,
        chunkSize,
        chunkDigest.toString());
  }

  static TocEntry landmark(String name, long compressedOffset, Digest digest) {
    return new TocEntry(
        name,
        TocEntry.REG,
        1,
        null,
        null,
        0644,
        0,
        0,
        null,
        null,
        compressedOffset,
        0,
        0,
        0,
        null,
        digest.toString(),
        0,
        0,
        digest.toString());
  }

  static TocEntry withDigest(TocEntry e, Digest digest) {
    return new TocEntry(
        e.name(),
        e.type(),
        e.size(),
        e.modtime(),
        e.linkName(),
        e.mode(),
        e.uid(),
        e.gid(),
        e.userName(),
        e.groupName(),
        e.offset(),
        e.innerOffset(),
        e.devMajor(),
        e.devMinor(),
        e.xattrs(),
        digest.toString(),
        e.chunkOffset(),
        e.chunkSize(),
        e.chunkDigest());
  }

  /** RFC 3339 in UTC to the second, as the reference writer formats it. */
  private static String modTime(Instant time) {
    return time.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static @Nullable String emptyToNull(String text) {
    return text.isEmpty() ? null : text;
  }

  private static @Nullable String emptyDigest(TarEntry entry) {
    return entry.size() == 0 ? Digest.sha256(new byte[0]).toString() : null;
  }

  private static @Nullable Map<String, byte[]> xattrs(TarEntry entry) {
    Map<String, byte[]> xattrs = new LinkedHashMap<>();
    for (var record : entry.paxRecords().entrySet()) {
      if (record.getKey().startsWith(XATTR_PREFIX)) {
        xattrs.put(record.getKey().substring(XATTR_PREFIX.length()), record.getValue());
      }
    }
    return xattrs.isEmpty() ? null : xattrs;
  }
}
