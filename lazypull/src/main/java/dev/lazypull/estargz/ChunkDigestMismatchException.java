package dev.lazypull.estargz;

/** A chunk's uncompressed bytes do not hash to the TOC's {@code chunkDigest}. */
public final class ChunkDigestMismatchException extends EstargzException {
  private static final long serialVersionUID = 1L;

  public ChunkDigestMismatchException(String message) {
    super(message);
  }
}
