package dev.lazypull.ztoc;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One PAX record of a tar entry as a zTOC stores it. The value is bytes: xattr values such as
 * {@code security.capability} are binary, and FlatBuffers strings carry any bytes.
 */
public record Xattr(String key, byte[] value) {

  static final String FILE_XATTR_PREFIX = "SCHILY.xattr.";

  public Xattr {
    value = value.clone();
  }

  /** A record whose value is UTF-8 text. */
  public static Xattr of(String key, String value) {
    return new Xattr(key, value.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public byte[] value() {
    return value.clone();
  }

  /** The value as text: see {@link ByteText#textOrHex}. */
  public String valueText() {
    return ByteText.textOrHex(value);
  }

  /** True for records that are file extended attributes ({@code SCHILY.xattr.*}). */
  public boolean isFileXattr() {
    return key.startsWith(FILE_XATTR_PREFIX);
  }

  /** The extended attribute's name without the PAX prefix, e.g. security.capability. */
  public String fileXattrName() {
    return key.substring(FILE_XATTR_PREFIX.length());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Xattr x && key.equals(x.key) && Arrays.equals(value, x.value);
  }

  @Override
  public int hashCode() {
    return key.hashCode() * 31 + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return key + "=" + valueText();
  }
}
