package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageIndex;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.registry.FetchedManifest;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.NotFoundException;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.registry.ResolvedImage;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocCodec;
import dev.lazypull.ztoc.ZtocException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the SOCI index of an image and its zTOCs, trusting only what chains from the image: an
 * explicit index digest first, then the image manifest's v2 annotation; v1 indexes (found through
 * referrers, which anyone who can push can add) only when allowed.
 */
public final class SociIndexFinder {

  private static final Logger log = LoggerFactory.getLogger(SociIndexFinder.class);

  private final RegistryClient client;

  public SociIndexFinder(RegistryClient client) {
    this.client = client;
  }

  /** Resolves the image for the client's platform, then finds its index. */
  public FoundIndex find(ImageReference image, @Nullable Digest explicitIndex, boolean allowV1)
      throws RegistryException, IOException {
    return find(client.resolveManifest(image), explicitIndex, allowV1);
  }

  /**
   * Finds the index of a resolved image.
   *
   * @param explicitIndex an index digest the user gave, or null
   * @param allowV1 whether v1 indexes found through referrers may be used
   * @throws SociException when there is none, or it does not belong to the image
   */
  public FoundIndex find(ResolvedImage image, @Nullable Digest explicitIndex, boolean allowV1)
      throws RegistryException, IOException {
    if (explicitIndex != null) {
      return checked(image, fetchIndex(image, explicitIndex), IndexSource.EXPLICIT_DIGEST);
    }
    String annotated =
        image.imageManifest().annotationsOrEmpty().get(MediaTypes.ANN_SOCI_INDEX_DIGEST);
    if (annotated != null) {
      SociIndex index = fetchIndex(image, parseAnnotation(image, annotated));
      return checked(image, index, IndexSource.IMAGE_ANNOTATION);
    }
    if (allowV1) {
      Optional<Referrer> referrer = v1Referrers(image).stream().reduce((a, b) -> b);
      if (referrer.isPresent()) {
        SociIndex index = fetchIndex(image, referrer.get().descriptor().digest());
        return checked(image, index, referrer.get().source());
      }
    }
    throw new SociException(
        "finding the SOCI index of "
            + describe(image)
            + ": the image manifest has no "
            + MediaTypes.ANN_SOCI_INDEX_DIGEST
            + " annotation"
            + (allowV1 ? " and no v1 index refers to it" : "")
            + "; convert it with `lazypull convert`, pass --index DIGEST"
            + (allowV1 ? "" : ", or allow v1 indexes with --allow-v1"));
  }

  /** Every index the registry holds for the image: its v2 index and any v1 referrers. */
  public List<IndexListing> list(ImageReference image) throws RegistryException, IOException {
    ResolvedImage resolved = client.resolveManifest(image);
    Map<Digest, IndexListing> found = new LinkedHashMap<>();
    String annotated =
        resolved.imageManifest().annotationsOrEmpty().get(MediaTypes.ANN_SOCI_INDEX_DIGEST);
    if (annotated != null) {
      SociIndex index = fetchIndex(resolved, parseAnnotation(resolved, annotated));
      found.put(index.digest(), listing(resolved, index.descriptor(), index.version(), null));
    }
    if (resolved.index() != null) {
      for (Descriptor d : resolved.index().index().manifests()) {
        String forManifest = d.annotationsOrEmpty().get(MediaTypes.ANN_SOCI_MANIFEST_DIGEST);
        if (MediaTypes.SOCI_INDEX_V2.equals(d.artifactType())
            && resolved.manifest().digest().toString().equals(forManifest)) {
          found.putIfAbsent(d.digest(), listing(resolved, d, IndexVersion.V2, null));
        }
      }
    }
    for (Referrer r : v1Referrers(resolved)) {
      found.putIfAbsent(
          r.descriptor().digest(), listing(resolved, r.descriptor(), IndexVersion.V1, r.source()));
    }
    return List.copyOf(found.values());
  }

  /**
   * Fetches a layer's zTOC (digest verified against the index), decodes and checks it against the
   * layer it claims to describe.
   */
  public Ztoc fetchZtoc(FoundIndex found, LayerZtoc layer) throws RegistryException, IOException {
    ImageReference repository = found.image().requested();
    byte[] bytes = client.fetchBlobBytes(repository, layer.ztoc());
    String what =
        layer.ztoc().digest().shortHex()
            + " (layer "
            + layer.layer().digest()
            + " of "
            + found.image().pinned()
            + ")";
    Ztoc ztoc;
    try {
      ztoc = ZtocCodec.decode(bytes, what);
    } catch (ZtocException e) {
      throw new SociException(e.getMessage() + "; rebuild the index with `lazypull convert`", e);
    }
    if (ztoc.compressedArchiveSize() != layer.layer().size()) {
      throw new SociException(
          "zTOC "
              + what
              + " describes a "
              + ztoc.compressedArchiveSize()
              + "-byte layer but the layer has "
              + layer.layer().size()
              + " bytes; its offsets do not fit the layer, rebuild the index with `lazypull"
              + " convert`");
    }
    return ztoc;
  }

  private SociIndex fetchIndex(ResolvedImage image, Digest digest)
      throws RegistryException, IOException {
    ImageReference byDigest = image.requested().withDigest(digest);
    FetchedManifest fetched;
    try {
      fetched = client.fetchManifest(byDigest);
    } catch (NotFoundException e) {
      throw new SociException(
          "fetching SOCI index "
              + digest
              + " of "
              + describe(image)
              + ": the registry does not have it; check the digest or convert the image again",
          e);
    }
    return SociIndex.parse(fetched.digest(), fetched.bytes(), "SOCI index " + byDigest);
  }

  private FoundIndex checked(ResolvedImage image, SociIndex index, IndexSource source)
      throws SociException {
    Descriptor subject = index.manifest().subject();
    if (subject != null && !subject.digest().equals(image.manifest().digest())) {
      throw new SociException(
          "SOCI index "
              + index.digest()
              + " is for image manifest "
              + subject.digest()
              + ", not "
              + describe(image)
              + "; pass the index of this image");
    }
    Map<Digest, Descriptor> imageLayers = new LinkedHashMap<>();
    image.imageManifest().layers().forEach(l -> imageLayers.putIfAbsent(l.digest(), l));
    List<LayerZtoc> layers = new ArrayList<>();
    for (Descriptor ztoc : index.ztocs()) {
      String layerText = ztoc.annotationsOrEmpty().get(MediaTypes.ANN_SOCI_LAYER_DIGEST);
      Descriptor layer = layerText == null ? null : imageLayers.get(parseLayer(layerText));
      if (layer == null) {
        throw new SociException(
            "SOCI index "
                + index.digest()
                + " has zTOC "
                + ztoc.digest()
                + " for layer "
                + layerText
                + ", which is not a layer of "
                + describe(image)
                + "; the index does not belong to this image, convert it again");
      }
      layers.add(new LayerZtoc(layer, ztoc));
    }
    log.debug("using {} SOCI index {} ({}) of {}", index.version(), index.digest(), source, image);
    return new FoundIndex(image, index, source, layers);
  }

  private static @Nullable Digest parseLayer(String text) {
    try {
      return Digest.parse(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static Digest parseAnnotation(ResolvedImage image, String text) throws SociException {
    try {
      return Digest.parse(text);
    } catch (IllegalArgumentException e) {
      throw new SociException(
          "reading the SOCI index annotation of "
              + describe(image)
              + ": "
              + e.getMessage()
              + "; convert the image again",
          e);
    }
  }

  /** The v1 index descriptors referring to the image, via the referrers API or its tag. */
  private List<Referrer> v1Referrers(ResolvedImage image) throws RegistryException {
    Digest subject = image.manifest().digest();
    Optional<ImageIndex> api =
        client.referrers(image.requested(), subject, MediaTypes.SOCI_INDEX_V1);
    IndexSource source = IndexSource.REFERRERS_API;
    ImageIndex referrers;
    if (api.isPresent()) {
      referrers = api.get();
    } else {
      source = IndexSource.REFERRERS_TAG;
      try {
        referrers =
            client
                .fetchManifest(image.requested().withTag(RegistryClient.referrersTag(subject)))
                .index();
      } catch (NotFoundException e) {
        return List.of();
      } catch (IllegalStateException e) {
        return List.of(); // the fallback tag names something that is not an index
      }
    }
    List<Referrer> result = new ArrayList<>();
    for (Descriptor d : referrers.manifests()) {
      if (MediaTypes.SOCI_INDEX_V1.equals(d.artifactType())) {
        result.add(new Referrer(d, source));
      }
    }
    return result;
  }

  private static IndexListing listing(
      ResolvedImage image, Descriptor index, IndexVersion version, @Nullable IndexSource source) {
    return new IndexListing(
        index,
        version,
        source != null ? source : IndexSource.IMAGE_ANNOTATION,
        image.manifest().digest(),
        image.platform());
  }

  static String describe(ResolvedImage image) {
    return image.requested() + " (" + image.platform() + ", " + image.manifest().digest() + ")";
  }

  private record Referrer(Descriptor descriptor, IndexSource source) {}
}
