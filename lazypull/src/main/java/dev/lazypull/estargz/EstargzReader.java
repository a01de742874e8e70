package dev.lazypull.estargz;

import dev.lazypull.oci.Digest;
import dev.lazypull.tar.TarEntry;
import dev.lazypull.tar.TarReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.jspecify.annotations.Nullable;

/**
 * Reads an eStargz blob by ranges: the footer and (usually) the TOC in one ranged read of the
 * blob's tail, the TOC checked against the layer's {@code toc.digest} annotation, then files chunk
 * by chunk, each chunk checked against its {@code chunkDigest} before use. Thread-safe.
 */
public final class EstargzReader {
  /** The layer annotation that carries the sha256 of the TOC JSON. */
  public static final String TOC_DIGEST_ANNOTATION = "containerd.io/snapshot/stargz/toc.digest";

  /** The layer annotation that carries the uncompressed layer size. */
  public static final String UNCOMPRESSED_SIZE_ANNOTATION =
      "io.containers.estargz.uncompressed-size";

  /** The tail read at open: the footer and, for most layers, the whole TOC. */
  public static final int TAIL_BYTES = 64 << 10;

  /** TOCs above this are refused: a corrupt footer must not make us fetch gigabytes. */
  static final long MAX_TOC_BYTES = 64L << 20;

  private final BlobBytes blob;
  private final String describe;
  private final EstargzIndex index;
  private final Digest tocDigest;
  private final long blobSize;

  private final Footer.Found footer;
  private final boolean tocVerified;

  private EstargzReader(
      BlobBytes blob,
      String describe,
      EstargzIndex index,
      Digest tocDigest,
      long blobSize,
      Footer.Found footer,
      boolean tocVerified) {
    this.blob = blob;
    this.describe = describe;
    this.index = index;
    this.tocDigest = tocDigest;
    this.blobSize = blobSize;
    this.footer = footer;
    this.tocVerified = tocVerified;
  }

  /**
   * Opens a blob of {@code blobSize} bytes: reads its footer and TOC and verifies the TOC.
   *
   * @param expectedTocDigest the layer's {@code toc.digest} annotation, null if it has none
   * @param skipVerify accept a TOC without a digest to check it against (insecure)
   * @param describe names the layer in messages (its digest)
   */
  public static EstargzReader open(
      BlobBytes blob,
      long blobSize,
      @Nullable Digest expectedTocDigest,
      boolean skipVerify,
      String describe)
      throws IOException {
    if (expectedTocDigest == null && !skipVerify) {
      throw new EstargzException(
          "layer "
              + describe
              + " has no "
              + TOC_DIGEST_ANNOTATION
              + " annotation, so its TOC cannot be verified; convert the image again or allow"
              + " unverified TOCs (insecure-skip-verify)");
    }
    if (blobSize < Footer.LEGACY_SIZE) {
      throw new EstargzException(
          "layer " + describe + " has " + blobSize + " bytes, too few for an eStargz footer");
    }
    int tailLength = (int) Math.min(blobSize, TAIL_BYTES);
    long tailOffset = blobSize - tailLength;
    byte[] tail = blob.read(tailOffset, tailLength);
    Footer.Found footer = withLayer(describe, () -> Footer.decode(tail));
    long tocEnd = blobSize - footer.footerSize();
    long tocOffset = footer.tocOffset();
    if (tocOffset >= tocEnd || tocEnd - tocOffset > MAX_TOC_BYTES) {
      throw new EstargzException(
          "layer "
              + describe
              + ": the footer puts the TOC at offset "
              + tocOffset
              + ", but the blob's TOC area ends at "
              + tocEnd
              + "; the footer is corrupt or the blob is cut short");
    }
    byte[] tocMember =
        tocOffset >= tailOffset
            ? Arrays.copyOfRange(tail, (int) (tocOffset - tailOffset), (int) (tocEnd - tailOffset))
            : blob.read(tocOffset, (int) (tocEnd - tocOffset));
    byte[] json = tocJson(tocMember, describe);
    Digest actual = Digest.sha256(json);
    if (expectedTocDigest != null && !actual.equals(expectedTocDigest)) {
      throw new EstargzException(
          "layer "
              + describe
              + ": the TOC hashes to "
              + actual
              + " but the layer's "
              + TOC_DIGEST_ANNOTATION
              + " is "
              + expectedTocDigest
              + "; refusing the corrupt or substituted TOC");
    }
    Toc toc = withLayer(describe, () -> Toc.parse(json));
    boolean verified = expectedTocDigest != null;
    // An unverified TOC may come from legacy stargz, whose writer recorded no chunk digests.
    EstargzIndex index = withLayer(describe, () -> EstargzIndex.of(toc, tocOffset, !verified));
    return new EstargzReader(blob, describe, index, actual, blobSize, footer, verified);
  }

  /**
   * Why the blob bytes from the TOC's offset to the end ({@code fromTocOffset}, taken from a blob
   * whose digest was checked) do not hold the footer and TOC this reader was opened with; null when
   * they do. Lets the whole-blob check of an unverified TOC find a substituted one.
   */
  public @Nullable String tocMismatch(byte[] fromTocOffset) {
    long tocOffset = index.tocOffset();
    if (fromTocOffset.length != blobSize - tocOffset) {
      return "the blob's TOC area has "
          + fromTocOffset.length
          + " bytes, expected "
          + (blobSize - tocOffset);
    }
    Footer.Found found;
    try {
      found = Footer.decode(fromTocOffset);
    } catch (EstargzException e) {
      return "the blob's own footer is not a stargz footer";
    }
    if (found.tocOffset() != tocOffset || found.footerSize() != footer.footerSize()) {
      return "the blob's own footer puts the TOC at " + found.tocOffset() + ", not " + tocOffset;
    }
    byte[] member = Arrays.copyOf(fromTocOffset, fromTocOffset.length - found.footerSize());
    Digest actual;
    try {
      actual = Digest.sha256(tocJson(member, describe));
    } catch (EstargzException e) {
      return e.getMessage();
    }
    return actual.equals(tocDigest)
        ? null
        : "the blob's own TOC hashes to "
            + actual
            + ", but the TOC served at mount to "
            + tocDigest;
  }

  /** The TOC JSON bytes from the TOC's gzip member: a tar entry {@code stargz.index.json}. */
  static byte[] tocJson(byte[] tocMember, String describe) throws EstargzException {
    try (InputStream gunzip = new GZIPInputStream(new ByteArrayInputStream(tocMember))) {
      byte[] tar = gunzip.readNBytes((int) MAX_TOC_BYTES + 4096);
      TarEntry entry = new TarReader(new ByteArrayInputStream(tar)).next();
      if (entry == null || !entry.name().equals(Toc.TAR_NAME)) {
        throw new EstargzException(
            "layer "
                + describe
                + ": the footer's TOC offset does not lead to a "
                + Toc.TAR_NAME
                + " entry; the layer is corrupt");
      }
      long end = entry.uncompressedOffset() + entry.size();
      if (entry.size() > MAX_TOC_BYTES) {
        throw new EstargzException(
            "layer "
                + describe
                + ": the TOC has "
                + entry.size()
                + " bytes, more than the "
                + MAX_TOC_BYTES
                + " lazypull accepts");
      }
      if (end > tar.length) {
        throw new EstargzException("layer " + describe + ": the TOC entry is cut short");
      }
      return Arrays.copyOfRange(tar, (int) entry.uncompressedOffset(), (int) end);
    } catch (EstargzException e) {
      throw e;
    } catch (IOException e) {
      throw new EstargzException(
          "layer " + describe + ": the TOC is not readable: " + e.getMessage(), e);
    }
  }

  public EstargzIndex index() {
    return index;
  }

  /**
   * Whether the TOC was checked against the layer's {@code toc.digest} annotation; false when the
   * user waived the check (insecure-skip-verify) for a layer without one.
   */
  public boolean tocVerified() {
    return tocVerified;
  }

  /** Whether the footer is the 47-byte one of legacy stargz. */
  public boolean legacyFooter() {
    return footer.footerSize() == Footer.LEGACY_SIZE;
  }

  /** The sha256 of the TOC JSON as stored. */
  public Digest tocDigest() {
    return tocDigest;
  }

  public String describe() {
    return describe;
  }

  /** The blob's compressed size, as the reader was opened with. */
  public long blobSize() {
    return blobSize;
  }

  /** One chunk's verified bytes: one ranged read of its gzip member(s). */
  public byte[] readChunk(FileChunk chunk) throws IOException {
    long length = chunk.compressedLength();
    if (length <= 0 || length > Integer.MAX_VALUE) {
      throw new EstargzException(
          chunk.describe() + " of layer " + describe + " has a compressed length of " + length);
    }
    byte[] compressed = blob.read(chunk.compressedOffset(), (int) length);
    return ChunkDecoder.decode(chunk, compressed, 0, compressed.length, describe);
  }

  /**
   * Writes a regular file's bytes to {@code out} chunk by chunk and then checks the file's {@code
   * digest}; throws before writing a chunk that does not match.
   */
  public void copyFile(String cleanName, OutputStream out) throws IOException {
    TocEntry entry = index.entry(cleanName);
    if (entry == null || !entry.type().equals(TocEntry.REG)) {
      throw new EstargzException("layer " + describe + " has no regular file " + cleanName);
    }
    MessageDigest hasher = Digest.newSha256();
    List<FileChunk> chunks = index.chunks(cleanName);
    for (FileChunk chunk : chunks) {
      byte[] data = readChunk(chunk);
      hasher.update(data);
      out.write(data);
    }
    String expected = entry.digest();
    Digest actual = Digest.fromSha256(hasher.digest());
    if (expected != null && !actual.toString().equals(expected)) {
      throw new EstargzException(
          "file "
              + cleanName
              + " of layer "
              + describe
              + ": the TOC's digest is "
              + expected
              + " but the file hashes to "
              + actual);
    }
  }

  /** A regular file's verified bytes in memory. */
  public byte[] readFile(String cleanName) throws IOException {
    var out = new java.io.ByteArrayOutputStream();
    copyFile(cleanName, out);
    return out.toByteArray();
  }

  @FunctionalInterface
  private interface Step<T> {
    T run() throws EstargzException;
  }

  /** Prefixes the layer to a format error that does not know which layer it is in. */
  private static <T> T withLayer(String describe, Step<T> step) throws EstargzException {
    try {
      return step.run();
    } catch (EstargzException e) {
      throw new EstargzException("layer " + describe + ": " + e.getMessage(), e);
    }
  }
}
