package dev.lazypull.ztoc;

/** How a layer is compressed, with the value the zTOC schema's enum gives it. */
public enum CompressionAlgorithm {
  GZIP((byte) 1),
  UNCOMPRESSED((byte) 2);

  private final byte wireValue;

  CompressionAlgorithm(byte wireValue) {
    this.wireValue = wireValue;
  }

  byte wireValue() {
    return wireValue;
  }

  static CompressionAlgorithm fromWire(byte value) throws ZtocException {
    for (CompressionAlgorithm algorithm : values()) {
      if (algorithm.wireValue == value) {
        return algorithm;
      }
    }
    throw new ZtocException("zTOC names unknown compression algorithm " + value);
  }
}
