package dev.lazypull.estargz;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One entry of an eStargz TOC, field for field as the JSON holds it. A regular file's first chunk
 * is its {@code reg} entry; further chunks follow as {@code chunk} entries of the same name.
 *
 * @param name the tar name, often with a leading {@code ./}; directories end with {@code /}
 * @param type {@code dir reg symlink hardlink char block fifo chunk}
 * @param modtime RFC 3339 time, absent on landmarks
 * @param offset blob offset of the gzip member holding this entry's payload (0 without payload)
 * @param innerOffset where the payload starts in the uncompressed bytes from {@code offset} on
 * @param xattrs extended attributes; the JSON carries values in base64
 * @param digest sha256 of the whole file ({@code reg} only)
 * @param chunkOffset where this chunk starts in the file
 * @param chunkSize the chunk's length; 0 means to the end of the file
 * @param chunkDigest sha256 of the chunk's uncompressed bytes
 */
public record TocEntry(
    String name,
    String type,
    long size,
    @Nullable String modtime,
    @Nullable String linkName,
    long mode,
    int uid,
    int gid,
    @Nullable String userName,
    @Nullable String groupName,
    long offset,
    long innerOffset,
    int devMajor,
    int devMinor,
    @Nullable Map<String, byte[]> xattrs,
    @Nullable String digest,
    long chunkOffset,
    long chunkSize,
    @Nullable String chunkDigest) {

  public static final String DIR = "dir";
  public static final String REG = "reg";
  public static final String SYMLINK = "symlink";
  public static final String HARDLINK = "hardlink";
  public static final String CHAR = "char";
  public static final String BLOCK = "block";
  public static final String FIFO = "fifo";
  public static final String CHUNK = "chunk";

  /** The name without a leading {@code ./} or {@code /} and without a trailing {@code /}. */
  public String cleanName() {
    return cleanName(name);
  }

  /** Cleans a tar name the way TOC lookups compare them. */
  public static String cleanName(String tarName) {
    String clean = tarName;
    while (clean.startsWith("./")) {
      clean = clean.substring(2);
    }
    while (clean.startsWith("/")) {
      clean = clean.substring(1);
    }
    while (clean.endsWith("/")) {
      clean = clean.substring(0, clean.length() - 1);
    }
    return clean.equals(".") ? "" : clean;
  }

  /** Whether this entry carries payload bytes: a non-empty regular file or one of its chunks. */
  public boolean hasPayload() {
    return (type.equals(REG) && size > 0) || type.equals(CHUNK);
  }
}
