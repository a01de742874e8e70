package dev.lazypull.ztoc;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

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

  /** The value as text: UTF-8 when valid, else {@code hex:} and the bytes in hex. */
  public String valueText() {
    var decoder = StandardCharsets.UTF_8.newDecoder();
    try {
      return decoder.decode(java.nio.ByteBuffer.wrap(value)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return "hex:" + HexFormat.of().formatHex(value);
    }
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
