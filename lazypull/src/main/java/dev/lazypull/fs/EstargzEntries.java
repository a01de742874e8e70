package dev.lazypull.fs;

import dev.lazypull.estargz.EstargzException;
import dev.lazypull.estargz.EstargzIndex;
import dev.lazypull.estargz.TocEntry;
import dev.lazypull.fs.layer.EstargzLayer;
import dev.lazypull.fs.tree.EntryType;
import dev.lazypull.fs.tree.LayerEntry;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns an eStargz TOC into the tree builder's entries, without the TOC and the landmarks. */
final class EstargzEntries {
  private EstargzEntries() {}

  static List<LayerEntry> of(EstargzLayer layer) throws EstargzException {
    List<LayerEntry> entries = new ArrayList<>();
    for (TocEntry entry : layer.index().entries().values()) {
      if (EstargzIndex.isFormatEntry(entry.cleanName())) {
        continue; // the format's own entries: a plain unpack creates them, the mount hides them
      }
      entries.add(of(entry, layer));
    }
    return entries;
  }

  private static LayerEntry of(TocEntry entry, EstargzLayer layer) throws EstargzException {
    OffsetDateTime mtime = modTime(entry, layer);
    Map<String, byte[]> xattrs = new LinkedHashMap<>();
    if (entry.xattrs() != null) {
      xattrs.putAll(entry.xattrs());
    }
    String linkName = entry.linkName();
    boolean regular = entry.type().equals(TocEntry.REG);
    return new LayerEntry(
        entry.name().getBytes(StandardCharsets.UTF_8),
        type(entry, layer),
        (int) (entry.mode() & 07777),
        entry.uid(),
        entry.gid(),
        mtime.toEpochSecond(),
        mtime.getNano(),
        regular ? entry.size() : 0,
        linkName == null ? new byte[0] : linkName.getBytes(StandardCharsets.UTF_8),
        entry.devMajor(),
        entry.devMinor(),
        xattrs,
        regular ? layer.dataOffset(entry.cleanName()) : 0);
  }

  private static OffsetDateTime modTime(TocEntry entry, EstargzLayer layer)
      throws EstargzException {
    String text = entry.modtime();
    if (text == null) {
      return OffsetDateTime.parse("1970-01-01T00:00:00Z");
    }
    try {
      return OffsetDateTime.parse(text);
    } catch (DateTimeParseException e) {
      throw new EstargzException(
          "layer "
              + layer.describe()
              + ": TOC entry "
              + entry.name()
              + " has modtime '"
              + text
              + "', not an RFC 3339 time");
    }
  }

  private static EntryType type(TocEntry entry, EstargzLayer layer) throws EstargzException {
    return switch (entry.type()) {
      case TocEntry.REG -> EntryType.REGULAR;
      case TocEntry.DIR -> EntryType.DIRECTORY;
      case TocEntry.SYMLINK -> EntryType.SYMLINK;
      case TocEntry.HARDLINK -> EntryType.HARDLINK;
      case TocEntry.CHAR -> EntryType.CHAR_DEVICE;
      case TocEntry.BLOCK -> EntryType.BLOCK_DEVICE;
      case TocEntry.FIFO -> EntryType.FIFO;
      default ->
          throw new EstargzException(
              "layer "
                  + layer.describe()
                  + ": TOC entry "
                  + entry.name()
                  + " has type "
                  + entry.type());
    };
  }
}
