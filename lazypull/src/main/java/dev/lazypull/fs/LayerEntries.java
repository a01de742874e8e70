package dev.lazypull.fs;

import dev.lazypull.fs.tree.EntryType;
import dev.lazypull.fs.tree.LayerEntry;
import dev.lazypull.ztoc.FileMetadata;
import dev.lazypull.ztoc.Xattr;
import dev.lazypull.ztoc.Ztoc;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns a zTOC's file list into the tree builder's entries. */
final class LayerEntries {
  private LayerEntries() {}

  static List<LayerEntry> of(Ztoc ztoc) {
    List<LayerEntry> entries = new ArrayList<>(ztoc.files().size());
    for (FileMetadata file : ztoc.files()) {
      entries.add(of(file));
    }
    return entries;
  }

  static LayerEntry of(FileMetadata file) {
    OffsetDateTime mtime = file.modTimeValue();
    Map<String, byte[]> xattrs = new LinkedHashMap<>();
    for (Xattr xattr : file.xattrs()) {
      if (xattr.isFileXattr()) {
        xattrs.put(xattr.fileXattrName(), xattr.value());
      }
    }
    return new LayerEntry(
        file.nameBytes(),
        type(file),
        (int) (file.mode() & 07777),
        (int) file.uid(),
        (int) file.gid(),
        mtime.toEpochSecond(),
        mtime.getNano(),
        file.uncompressedSize(),
        file.linkNameBytes(),
        (int) file.devMajor(),
        (int) file.devMinor(),
        xattrs,
        file.uncompressedOffset());
  }

  private static EntryType type(FileMetadata file) {
    return switch (file.type()) {
      case REGULAR -> EntryType.REGULAR;
      case HARDLINK -> EntryType.HARDLINK;
      case SYMLINK -> EntryType.SYMLINK;
      case CHAR_DEVICE -> EntryType.CHAR_DEVICE;
      case BLOCK_DEVICE -> EntryType.BLOCK_DEVICE;
      case DIRECTORY -> EntryType.DIRECTORY;
      case FIFO -> EntryType.FIFO;
    };
  }
}
