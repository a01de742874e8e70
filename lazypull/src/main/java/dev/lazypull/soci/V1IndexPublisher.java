package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageIndex;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.NotFoundException;
import dev.lazypull.registry.PushedManifest;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.registry.RequestBody;
import dev.lazypull.registry.ResolvedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Pushes a v1 SOCI index for an image already in a registry: the zTOCs, the empty config, the index
 * manifest with the image as its {@code subject}, and, on registries without the referrers API, the
 * {@code sha256-<hex>} fallback tag merged with the referrers already listed there.
 */
public final class V1IndexPublisher {

  private final RegistryClient client;
  private final IndexingOptions options;
  private final LayerIndexPool pool;

  public V1IndexPublisher(RegistryClient client, IndexingOptions options) {
    this.client = client;
    this.options = options;
    this.pool = new LayerIndexPool(client, options);
  }

  /** Indexes the image's layers and pushes the index. */
  public PublishedIndex publish(ImageReference image) throws RegistryException, IOException {
    ResolvedImage resolved =
        options.platform() != null
            ? client.resolveManifest(image, options.platform())
            : client.resolveManifest(image);
    ImageReference repository = resolved.requested();
    List<Descriptor> imageLayers = resolved.imageManifest().layers();
    Map<Digest, LayerIndexResult> results = pool.indexAll(repository, imageLayers);

    List<Descriptor> ztocs = new ArrayList<>();
    for (LayerIndexResult result : results.values()) {
      if (result instanceof LayerIndexResult.Indexed indexed) {
        client.pushBlob(repository, indexed.descriptor(), RequestBody.of(indexed.bytes()), null);
        ztocs.add(indexed.descriptor());
      }
    }
    client.pushBlob(
        repository,
        SociIndex.emptyConfig(IndexVersion.V1),
        RequestBody.of(SociIndex.emptyConfigBytes()),
        null);
    Descriptor subject =
        Descriptor.of(
            resolved.manifest().mediaType(),
            resolved.manifest().digest(),
            resolved.manifest().size());
    ImageManifest document =
        SociIndex.document(IndexVersion.V1, ztocs, subject, options.buildToolIdentifier());
    byte[] bytes = OciJson.write(document);
    Digest digest = Digest.sha256(bytes);
    PushedManifest pushed =
        client.pushManifest(repository.withDigest(digest), MediaTypes.OCI_MANIFEST, bytes);
    var index = new SociIndex(digest, bytes.length, IndexVersion.V1, document);

    IndexSource source = IndexSource.REFERRERS_API;
    if (pushed.subject() == null) {
      // No OCI-Subject header: the registry does not link referrers itself.
      updateFallbackTag(repository, subject.digest(), index);
      source = IndexSource.REFERRERS_TAG;
    }
    List<LayerIndexResult> perLayer =
        imageLayers.stream().map(l -> results.get(l.digest())).toList();
    return new PublishedIndex(resolved, index, source, perLayer);
  }

  private void updateFallbackTag(ImageReference repository, Digest subject, SociIndex index)
      throws RegistryException {
    ImageReference tag = repository.withTag(RegistryClient.referrersTag(subject));
    List<Descriptor> referrers = new ArrayList<>();
    try {
      referrers.addAll(client.fetchManifest(tag).index().manifests());
    } catch (NotFoundException e) {
      // first referrer of this image
    }
    referrers.removeIf(d -> d.digest().equals(index.digest()));
    referrers.add(
        new Descriptor(
            MediaTypes.OCI_MANIFEST,
            index.digest(),
            index.size(),
            null,
            index.manifest().annotations(),
            null,
            MediaTypes.SOCI_INDEX_V1));
    client.pushManifest(tag, MediaTypes.OCI_INDEX, OciJson.write(ImageIndex.of(referrers)));
  }
}
