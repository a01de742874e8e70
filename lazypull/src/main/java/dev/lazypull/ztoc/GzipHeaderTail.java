package dev.lazypull.ztoc;

/**
 * Measures the optional fields of a gzip member header (RFC 1952: FEXTRA, FNAME, FCOMMENT, FHCRC)
 * that follow its fixed 10 bytes. Needed where a zTOC assumes a plain 10-byte header.
 */
final class GzipHeaderTail {

  static final int FIXED_SIZE = 10;

  private static final int FHCRC = 2;
  private static final int FEXTRA = 4;
  private static final int FNAME = 8;
  private static final int FCOMMENT = 16;

  private GzipHeaderTail() {}

  /**
   * How many bytes of {@code after} (the bytes that follow the fixed header {@code fixed}) still
   * belong to the header.
   *
   * @throws ZtocException when {@code fixed} is not a deflate gzip header or the optional fields
   *     run past {@code after}
   */
  static int length(byte[] fixed, byte[] after) throws ZtocException {
    if (fixed.length < FIXED_SIZE
        || (fixed[0] & 0xff) != 0x1f
        || (fixed[1] & 0xff) != 0x8b
        || fixed[2] != 8) {
      throw new ZtocException("the layer does not start with a gzip header");
    }
    int flags = fixed[3] & 0xff;
    int at = 0;
    if ((flags & FEXTRA) != 0) {
      at = need(after, at + 2);
      at = need(after, at + ((after[at - 2] & 0xff) | (after[at - 1] & 0xff) << 8));
    }
    if ((flags & FNAME) != 0) {
      at = pastNul(after, at);
    }
    if ((flags & FCOMMENT) != 0) {
      at = pastNul(after, at);
    }
    if ((flags & FHCRC) != 0) {
      at = need(after, at + 2);
    }
    return at;
  }

  private static int need(byte[] after, int end) throws ZtocException {
    if (end > after.length) {
      throw new ZtocException("the gzip header runs past span 0");
    }
    return end;
  }

  private static int pastNul(byte[] after, int at) throws ZtocException {
    for (int i = at; i < after.length; i++) {
      if (after[i] == 0) {
        return i + 1;
      }
    }
    throw new ZtocException("the gzip header runs past span 0");
  }
}
