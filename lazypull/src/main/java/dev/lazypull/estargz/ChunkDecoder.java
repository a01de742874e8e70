package dev.lazypull.estargz;

import dev.lazypull.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/** Inflates a chunk from its compressed bytes and checks its {@code chunkDigest}. */
public final class ChunkDecoder {
  private ChunkDecoder() {}

  /**
   * The chunk's verified uncompressed bytes, from {@code compressed[from, from + length)} holding
   * the blob bytes from the chunk's compressed offset on (at least to its compressed end).
   *
   * @param describe names the layer in messages
   */
  public static byte[] decode(
      FileChunk chunk, byte[] compressed, int from, int length, String describe)
      throws EstargzException {
    byte[] data = inflate(chunk, compressed, from, length, describe);
    Digest expected = chunk.digest();
    if (expected == null) {
      return data; // an unverified legacy TOC without digests: the caller knows and said so
    }
    Digest actual = Digest.sha256(data);
    if (!actual.equals(expected)) {
      throw new ChunkDigestMismatchException(
          chunk.describe()
              + " of layer "
              + describe
              + ": the TOC's chunkDigest is "
              + expected
              + " but the bytes hash to "
              + actual
              + "; refusing the corrupt chunk");
    }
    return data;
  }

  /**
   * The chunk's uncompressed bytes, not checked against any digest: for a caller that compares them
   * with something else (the whole-blob check of an unverified TOC).
   */
  public static byte[] inflate(
      FileChunk chunk, byte[] compressed, int from, int length, String describe)
      throws EstargzException {
    if (chunk.size() > Integer.MAX_VALUE - 16) {
      throw new EstargzException(chunk.describe() + " of " + describe + " is too large to read");
    }
    byte[] data;
    // GZIPInputStream reads on through concatenated members, as a chunk may span several.
    try (InputStream in =
        new GZIPInputStream(new ByteArrayInputStream(compressed, from, length), 1 << 16)) {
      in.skipNBytes(chunk.innerOffset());
      data = in.readNBytes((int) chunk.size());
    } catch (IOException e) {
      throw new EstargzException(
          chunk.describe()
              + " of layer "
              + describe
              + " is not readable gzip: "
              + e.getMessage()
              + "; the layer or the TOC is corrupt",
          e);
    }
    if (data.length != chunk.size()) {
      throw new EstargzException(
          chunk.describe()
              + " of layer "
              + describe
              + " ended after "
              + data.length
              + " of "
              + chunk.size()
              + " bytes; the layer or the TOC is corrupt");
    }
    return data;
  }
}
