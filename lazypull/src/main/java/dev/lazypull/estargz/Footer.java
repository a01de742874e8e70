package dev.lazypull.estargz;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;

/**
 * The eStargz footer: an empty gzip member whose FEXTRA field holds the TOC's blob offset. The
 * current form (51 bytes) wraps the 22-byte payload in an {@code SG} subfield; legacy stargz (47
 * bytes) puts the payload in FEXTRA bare. Payload: 16 lowercase hex digits, then {@code STARGZ}.
 */
public final class Footer {
  public static final int SIZE = 51;
  public static final int LEGACY_SIZE = 47;

  private static final int PAYLOAD_SIZE = 22;
  private static final int FLAG_EXTRA = 0x04;
  private static final byte[] MAGIC = "STARGZ".getBytes(StandardCharsets.US_ASCII);

  /** An empty final stored deflate block: BFINAL=1, BTYPE=00, LEN=0, NLEN=0xffff. */
  private static final byte[] EMPTY_DEFLATE = {0x01, 0x00, 0x00, (byte) 0xff, (byte) 0xff};

  private Footer() {}

  /** The 51-byte footer pointing at a TOC that starts at {@code tocOffset}. */
  public static byte[] encode(long tocOffset) {
    byte[] footer = new byte[SIZE];
    int at = header(footer, PAYLOAD_SIZE + 4);
    footer[at++] = 'S';
    footer[at++] = 'G';
    footer[at++] = PAYLOAD_SIZE;
    footer[at++] = 0;
    at = payload(footer, at, tocOffset);
    System.arraycopy(EMPTY_DEFLATE, 0, footer, at, EMPTY_DEFLATE.length);
    // CRC32 and ISIZE of empty content are both zero: the array is already zeroed.
    return footer;
  }

  /**
   * The TOC offset from a blob's last bytes ({@code tail} holds at least the last 47 bytes, more if
   * the blob has them); tries the 51-byte footer, then the legacy one.
   *
   * @return a {@link Found} with the footer's size
   */
  public static Found decode(byte[] tail) throws EstargzException {
    if (tail.length >= SIZE) {
      Long offset = parse(tail, tail.length - SIZE, true);
      if (offset != null) {
        return new Found(offset, SIZE);
      }
    }
    if (tail.length >= LEGACY_SIZE) {
      Long offset = parse(tail, tail.length - LEGACY_SIZE, false);
      if (offset != null) {
        return new Found(offset, LEGACY_SIZE);
      }
    }
    throw new EstargzException(
        "the blob does not end with an eStargz footer (an empty gzip member holding the TOC"
            + " offset and STARGZ); it is not an eStargz layer");
  }

  /** A decoded footer: where the TOC starts and how many bytes the footer takes at the end. */
  public record Found(long tocOffset, int footerSize) {}

  private static int header(byte[] out, int extraLength) {
    out[0] = 0x1f;
    out[1] = (byte) 0x8b;
    out[2] = 8; // deflate
    out[3] = FLAG_EXTRA;
    // MTIME 0 and XFL 0; OS 255 (unknown), as Go's gzip writer sets it.
    out[9] = (byte) 0xff;
    out[10] = (byte) extraLength;
    out[11] = (byte) (extraLength >> 8);
    return 12;
  }

  private static int payload(byte[] out, int at, long tocOffset) {
    String hex = String.format("%016x", tocOffset);
    byte[] digits = hex.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(digits, 0, out, at, 16);
    System.arraycopy(MAGIC, 0, out, at + 16, MAGIC.length);
    return at + PAYLOAD_SIZE;
  }

  private static @Nullable Long parse(byte[] bytes, int start, boolean subfield) {
    int extraLength = subfield ? PAYLOAD_SIZE + 4 : PAYLOAD_SIZE;
    if ((bytes[start] & 0xff) != 0x1f
        || (bytes[start + 1] & 0xff) != 0x8b
        || bytes[start + 2] != 8
        || (bytes[start + 3] & FLAG_EXTRA) == 0
        || (bytes[start + 10] & 0xff | (bytes[start + 11] & 0xff) << 8) != extraLength) {
      return null;
    }
    int at = start + 12;
    if (subfield) {
      if (bytes[at] != 'S' || bytes[at + 1] != 'G' || bytes[at + 2] != PAYLOAD_SIZE) {
        return null;
      }
      at += 4;
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (bytes[at + 16 + i] != MAGIC[i]) {
        return null;
      }
    }
    String hex = new String(bytes, at, 16, StandardCharsets.US_ASCII);
    if (!hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return null;
    }
    return HexFormat.fromHexDigitsToLong(hex);
  }
}
