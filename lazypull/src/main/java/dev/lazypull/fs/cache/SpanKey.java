package dev.lazypull.fs.cache;

import java.util.regex.Pattern;

/**
 * One span of one layer: the layer's digest hex and the span's index in its zTOC.
 *
 * @param layerHex the sha256 hex of the compressed layer
 * @param spanId the span's index
 */
public record SpanKey(String layerHex, int spanId) {
  private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

  public SpanKey {
    if (!HEX.matcher(layerHex).matches() || spanId < 0) {
      throw new IllegalArgumentException("bad span key " + layerHex + "/" + spanId);
    }
  }
}
