package dev.lazypull.ztoc;

/** One PAX record of a tar entry as a zTOC stores it (key and value as in the archive). */
public record Xattr(String key, String value) {

  static final String FILE_XATTR_PREFIX = "SCHILY.xattr.";

  /** True for records that are file extended attributes ({@code SCHILY.xattr.*}). */
  public boolean isFileXattr() {
    return key.startsWith(FILE_XATTR_PREFIX);
  }

  /** The extended attribute's name without the PAX prefix, e.g. security.capability. */
  public String fileXattrName() {
    return key.substring(FILE_XATTR_PREFIX.length());
  }
}
