package dev.lazypull.ztoc;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Shows zTOC byte strings (names, link targets, PAX values) as text. Tar names are bytes, not
 * necessarily UTF-8, so text forms are either lossy or escaped.
 */
public final class ByteText {

  /** Marks escaped text: the rest is the bytes in lowercase hex. */
  public static final String HEX_PREFIX = "hex:";

  private ByteText() {}

  /**
   * The bytes as UTF-8 text, or {@code hex:} and the bytes in hex when they are not valid UTF-8 or
   * when their text itself starts with {@code hex:} (so that the escape stays unambiguous).
   */
  public static String textOrHex(byte[] bytes) {
    try {
      String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
      if (!text.startsWith(HEX_PREFIX)) {
        return text;
      }
    } catch (CharacterCodingException e) {
      // falls through to the escape
    }
    return HEX_PREFIX + HexFormat.of().formatHex(bytes);
  }

  /**
   * The bytes as UTF-8 text, each malformed sequence replaced by U+FFFD. Lossy for bytes that are
   * not UTF-8: for display and lookup by a typed path, never to recreate the name.
   */
  public static String lossyText(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** True when {@code bytes} are valid UTF-8, so that {@link #lossyText} is exact. */
  public static boolean isUtf8(byte[] bytes) {
    try {
      StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  /**
   * The inverse of {@link #textOrHex}: the bytes of {@code text} in UTF-8, or the hex after {@code
   * hex:}.
   *
   * @throws IllegalArgumentException when the text after {@code hex:} is not hex
   */
  public static byte[] parse(String text) {
    if (text.startsWith(HEX_PREFIX)) {
      return HexFormat.of().parseHex(text.substring(HEX_PREFIX.length()));
    }
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
