package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.ztoc.UnindexableLayerException;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocBuilder;
import dev.lazypull.ztoc.ZtocCodec;
import dev.lazypull.ztoc.ZtocException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds one layer's zTOC by streaming the layer from the registry through the {@link ZtocBuilder}
 * (no local copy), checking on the way that the bytes are the layer the manifest names.
 */
public final class LayerIndexer {

  private static final Logger log = LoggerFactory.getLogger(LayerIndexer.class);
  private static final int MAGIC_BYTES = 4;

  private final RegistryClient client;
  private final ZtocBuilder builder;
  private final long spanSize;
  private final long minLayerSize;

  public LayerIndexer(
      RegistryClient client, long spanSize, long minLayerSize, String buildToolIdentifier) {
    this.client = client;
    this.builder = new ZtocBuilder(spanSize, buildToolIdentifier);
    this.spanSize = spanSize;
    this.minLayerSize = minLayerSize;
  }

  /**
   * Indexes one layer of the image in {@code repository}.
   *
   * @throws SociException for a layer that is corrupt, truncated or not what its media type says
   */
  public LayerIndexResult index(ImageReference repository, Descriptor layer)
      throws RegistryException, IOException {
    String what = layer.digest().shortHex() + " of " + repository;
    if (layer.size() < minLayerSize) {
      return new LayerIndexResult.Skipped(
          layer, "smaller than the minimum layer size " + minLayerSize, false);
    }
    if (isZstd(layer.mediaType())) {
      return new LayerIndexResult.Skipped(
          layer, "zstd-compressed (" + layer.mediaType() + "); it will be fetched whole", true);
    }
    MessageDigest sha256 = Digest.newSha256();
    try (InputStream raw =
            client.openRange(repository, layer.digest(), layer.size(), 0, layer.size());
        var in = new BufferedInputStream(new DigestInputStream(raw, sha256), 1 << 16)) {
      checkMagic(in, layer, what);
      Ztoc ztoc = builder.build(in, what);
      in.transferTo(java.io.OutputStream.nullOutputStream()); // hash whatever follows the archive
      checkDigest(layer, Digest.fromSha256(sha256.digest()), what);
      byte[] bytes = ZtocCodec.encode(ztoc);
      log.debug("indexed layer {}: {} spans, zTOC {} bytes", what, ztoc.spanCount(), bytes.length);
      return new LayerIndexResult.Indexed(
          layer, ztoc, bytes, SociIndex.ztocDescriptor(layer, bytes, spanSize));
    } catch (UnindexableLayerException e) {
      return new LayerIndexResult.Skipped(layer, String.valueOf(e.getMessage()), true);
    } catch (ZtocException e) {
      // The builder's message already names the layer (as `what`) and the problem.
      throw new SociException(
          e.getMessage() + "; the layer blob is damaged: rebuild and push the image again", e);
    }
  }

  private static boolean isZstd(String mediaType) {
    return mediaType.endsWith("+zstd") || mediaType.endsWith(".zstd");
  }

  private static boolean isGzip(String mediaType) {
    return MediaTypes.isGzipLayer(mediaType) || mediaType.endsWith("+gzip");
  }

  /** The media type decides the format: a layer that says gzip must be gzip, and so on. */
  private static void checkMagic(BufferedInputStream in, Descriptor layer, String what)
      throws IOException {
    in.mark(MAGIC_BYTES);
    byte[] head = in.readNBytes(MAGIC_BYTES);
    in.reset();
    boolean gzipBytes = head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
    boolean zstdBytes =
        head.length == 4
            && (head[0] & 0xff) == 0x28
            && (head[1] & 0xff) == 0xb5
            && (head[2] & 0xff) == 0x2f
            && (head[3] & 0xff) == 0xfd;
    boolean declaredGzip = isGzip(layer.mediaType());
    if (declaredGzip != gzipBytes || zstdBytes) {
      throw new SociException(
          "indexing layer "
              + layer.digest()
              + " ("
              + what
              + "): its media type is "
              + layer.mediaType()
              + " but it starts with "
              + HexFormat.of().formatHex(head)
              + (zstdBytes ? " (zstd)" : gzipBytes ? " (gzip)" : "")
              + "; fix the image's manifest or rebuild the layer");
    }
  }

  private static void checkDigest(Descriptor layer, Digest actual, String what)
      throws SociException {
    if (!actual.equals(layer.digest())) {
      throw new SociException(
          "indexing layer "
              + what
              + ": the registry sent bytes with digest "
              + actual
              + " instead of "
              + layer.digest()
              + "; push the image again");
    }
  }
}
