package dev.lazypull.fs;

import dev.lazypull.estargz.BlobBytes;
import dev.lazypull.estargz.EstargzException;
import dev.lazypull.estargz.EstargzReader;
import dev.lazypull.estargz.Footer;
import dev.lazypull.fs.cache.SpanCache;
import dev.lazypull.fs.layer.EstargzLayer;
import dev.lazypull.fs.layer.FetchCounters;
import dev.lazypull.fs.layer.RegistryBytes;
import dev.lazypull.fs.tree.LayerEntry;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens eStargz layers from the registry, for an image mount and for a remote snapshot alike. */
final class EstargzLayers {
  private static final Logger log = LoggerFactory.getLogger(EstargzLayers.class);

  private EstargzLayers() {}

  /**
   * Opens a layer that has neither a zTOC nor the TOC digest annotation lazily when its tail holds
   * an eStargz (51-byte) or legacy stargz (47-byte) footer and a usable TOC; the TOC is unverified,
   * which the user allowed (insecure-skip-verify). One ranged GET of the tail (64 KiB) decides, and
   * serves the footer and, for most layers, the TOC. Returns null when the layer is not (e)stargz
   * or its TOC cannot be used: the caller then fetches it whole, digest-checked, as without the
   * option.
   */
  static @Nullable Unverified openUnverified(
      RegistryClient client,
      ImageReference reference,
      Descriptor layer,
      SpanCache cache,
      FetchCounters counters,
      Duration readTimeout)
      throws IOException {
    if (!MediaTypes.isGzipLayer(layer.mediaType()) || layer.size() < Footer.LEGACY_SIZE) {
      return null;
    }
    var bytes = new RegistryBytes(client, reference, layer, readTimeout);
    int tailLength = (int) Math.min(layer.size(), EstargzReader.TAIL_BYTES);
    long tailOffset = layer.size() - tailLength;
    byte[] tail;
    try {
      tail = bytes.fetch(tailOffset, tailLength);
    } catch (java.io.InterruptedIOException e) {
      throw e;
    } catch (IOException e) {
      // The probe is a guess on a layer that may well be plain gzip: a failed range request must
      // not fail a mount that a whole fetch can still serve.
      log.warn(
          "probing the tail of layer {} of {} for a stargz footer failed ({}); fetching it whole",
          layer.digest(),
          reference,
          e.getMessage());
      return null;
    }
    try {
      Footer.decode(tail);
    } catch (EstargzException e) {
      log.info(
          "layer {} of {} has no (e)stargz footer; it is fetched whole", layer.digest(), reference);
      return null;
    }
    BlobBytes blob =
        (offset, length) ->
            offset >= tailOffset && offset + length <= layer.size()
                ? Arrays.copyOfRange(
                    tail, (int) (offset - tailOffset), (int) (offset - tailOffset) + length)
                : bytes.fetch(offset, length);
    EstargzLayer estargz;
    List<LayerEntry> entries;
    try {
      EstargzReader reader =
          EstargzReader.open(blob, layer.size(), null, true, layer.digest().toString());
      estargz = new EstargzLayer(layer.digest(), reader, bytes, cache, counters, readTimeout);
      entries = EstargzEntries.of(estargz);
    } catch (EstargzException e) {
      log.warn(
          "layer {} of {} ends with a stargz footer, but its TOC cannot be used ({}); fetching it"
              + " whole",
          layer.digest(),
          reference,
          e.getMessage());
      return null;
    }
    int undigested = estargz.undigestedChunks();
    log.warn(
        "layer {} of {}: mounted lazily through its UNVERIFIED {} TOC (no {} annotation;"
            + " insecure-skip-verify): {}; the TOC itself is checked only when the background"
            + " fetch has the whole blob and its digest",
        layer.digest(),
        reference,
        estargz.legacyFooter() ? "legacy stargz" : "eStargz",
        EstargzReader.TOC_DIGEST_ANNOTATION,
        undigested == 0
            ? "every chunk is checked against the TOC's digests"
            : undigested + " chunks have no digest in the TOC and are served unchecked");
    estargz.prefetchStartupFiles();
    return new Unverified(estargz, entries);
  }

  /** A layer opened through its unverified TOC, with its entries for the tree. */
  record Unverified(EstargzLayer layer, List<LayerEntry> entries) {}

  /** The layer's TOC digest annotation, or null when the layer is not eStargz. */
  static @Nullable String tocDigestOf(Descriptor layer) {
    return layer.annotationsOrEmpty().get(EstargzReader.TOC_DIGEST_ANNOTATION);
  }

  /**
   * Opens an eStargz layer: its TOC read from the blob's tail and checked against {@code
   * tocDigest}, then its start-up files, if it lists any, fetched in one request.
   */
  static EstargzLayer open(
      RegistryClient client,
      ImageReference reference,
      Descriptor layer,
      String tocDigest,
      SpanCache cache,
      FetchCounters counters,
      Duration readTimeout)
      throws IOException {
    var bytes = new RegistryBytes(client, reference, layer, readTimeout);
    Digest expected;
    try {
      expected = Digest.parse(tocDigest);
    } catch (IllegalArgumentException e) {
      throw new EstargzException(
          "layer "
              + layer.digest()
              + ": its "
              + EstargzReader.TOC_DIGEST_ANNOTATION
              + " annotation is not a digest: "
              + e.getMessage(),
          e);
    }
    EstargzReader reader =
        EstargzReader.open(bytes::fetch, layer.size(), expected, false, layer.digest().toString());
    var estargz = new EstargzLayer(layer.digest(), reader, bytes, cache, counters, readTimeout);
    estargz.prefetchStartupFiles();
    return estargz;
  }
}
