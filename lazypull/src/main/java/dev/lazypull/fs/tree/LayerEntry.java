package dev.lazypull.fs.tree;

import java.util.Map;

/**
 * One tar entry of a layer, as an index describes it. Names and link targets are raw bytes.
 *
 * @param rawName the name as stored in the tar, before cleaning
 * @param mode permission bits; file-type bits, if present, are ignored
 * @param uncompressedOffset where the entry's data starts in the layer's uncompressed tar
 * @param xattrs file extended attributes (the {@code SCHILY.xattr.} prefix already removed)
 */
public record LayerEntry(
    byte[] rawName,
    EntryType type,
    int mode,
    int uid,
    int gid,
    long mtimeSeconds,
    int mtimeNanos,
    long size,
    byte[] linkName,
    int devMajor,
    int devMinor,
    Map<String, byte[]> xattrs,
    long uncompressedOffset) {

  /** The name for messages. */
  public String displayName() {
    return new String(rawName, java.nio.charset.StandardCharsets.UTF_8);
  }
}
