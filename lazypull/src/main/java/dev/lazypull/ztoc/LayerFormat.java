package dev.lazypull.ztoc;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.util.HexFormat;

/** Recognises a layer's compression from its first bytes. */
enum LayerFormat {
  GZIP,
  TAR;

  private static final int PROBE = 512;

  /** Looks at the stream's first bytes (which stay unread); throws for unsupported formats. */
  static LayerFormat detect(BufferedInputStream in, String what) throws IOException {
    in.mark(PROBE);
    byte[] head = in.readNBytes(PROBE);
    in.reset();
    if (head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
      return GZIP;
    }
    if (head.length >= 4
        && (head[0] & 0xff) == 0x28
        && (head[1] & 0xff) == 0xb5
        && (head[2] & 0xff) == 0x2f
        && (head[3] & 0xff) == 0xfd) {
      throw new UnindexableLayerException(
          "layer "
              + what
              + " is zstd-compressed; lazypull indexes gzip and uncompressed tar"
              + " layers only, so it will be fetched whole");
    }
    if (head.length == PROBE && isTarHeader(head)) {
      return TAR;
    }
    throw new ZtocException(
        "layer "
            + what
            + " is neither gzip nor tar (first bytes "
            + HexFormat.of().formatHex(head, 0, Math.min(8, head.length))
            + "); check that the file is a layer blob");
  }

  private static boolean isTarHeader(byte[] block) {
    boolean allZero = true;
    for (byte b : block) {
      allZero &= b == 0;
    }
    if (allZero) {
      return true; // an empty archive: just the end-of-archive marker
    }
    if (block[257] == 'u'
        && block[258] == 's'
        && block[259] == 't'
        && block[260] == 'a'
        && block[261] == 'r') {
      return true;
    }
    long sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : block[i] & 0xff;
    }
    String stored =
        new String(block, 148, 8, java.nio.charset.StandardCharsets.US_ASCII)
            .replace("\0", "")
            .trim();
    return !stored.isEmpty()
        && stored.chars().allMatch(c -> c >= '0' && c <= '7')
        && Long.parseLong(stored, 8) == sum;
  }
}
