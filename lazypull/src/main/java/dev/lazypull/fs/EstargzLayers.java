package dev.lazypull.fs;

import dev.lazypull.estargz.EstargzException;
import dev.lazypull.estargz.EstargzReader;
import dev.lazypull.fs.cache.SpanCache;
import dev.lazypull.fs.layer.EstargzLayer;
import dev.lazypull.fs.layer.FetchCounters;
import dev.lazypull.fs.layer.RegistryBytes;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import java.io.IOException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** Opens eStargz layers from the registry, for an image mount and for a remote snapshot alike. */
final class EstargzLayers {
  private EstargzLayers() {}

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
