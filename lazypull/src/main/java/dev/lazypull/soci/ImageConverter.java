package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageConfig;
import dev.lazypull.oci.ImageIndex;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import dev.lazypull.oci.Platform;
import dev.lazypull.registry.FetchedManifest;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.registry.RequestBody;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a SOCI-enabled image (index v2) from an image: copies its blobs to the destination, builds
 * and pushes the zTOCs and the index, a new image manifest annotated with the index digest, and an
 * OCI image index listing the image manifests first and the SOCI index descriptors after them.
 *
 * <p>Everything is pushed by digest, each blob before the manifest naming it, and the destination
 * tag last: a conversion that fails leaves every tag as it was.
 */
public final class ImageConverter {

  private static final Logger log = LoggerFactory.getLogger(ImageConverter.class);

  private final RegistryClient client;
  private final IndexingOptions options;
  private final LayerIndexPool pool;

  public ImageConverter(RegistryClient client, IndexingOptions options) {
    this.client = client;
    this.options = options;
    this.pool = new LayerIndexPool(client, options);
  }

  /** Converts {@code source} and tags the result as {@code destination}. */
  public Conversion convert(ImageReference source, ImageReference destination)
      throws RegistryException, IOException {
    if (destination.tag() == null || destination.digest() != null) {
      throw new IllegalArgumentException(
          "converting "
              + source
              + ": the destination "
              + destination
              + " must name a tag and no digest, e.g. "
              + destination.registry()
              + "/"
              + destination.repository()
              + ":soci");
    }
    List<SourceImage> sources = new PlatformSelector(client, options).select(source);
    List<ConvertedImage> converted = new ArrayList<>();
    for (SourceImage image : sources) {
      converted.add(convertOne(source, image, destination));
    }
    List<Descriptor> entries = new ArrayList<>();
    converted.forEach(c -> entries.add(c.manifest()));
    converted.forEach(c -> entries.add(indexEntry(c)));
    byte[] indexBytes = OciJson.write(ImageIndex.of(entries));
    client.pushManifest(destination, MediaTypes.OCI_INDEX, indexBytes);
    log.info("converted {} to {} ({} platforms)", source, destination, converted.size());
    return new Conversion(destination, Digest.sha256(indexBytes), converted);
  }

  private ConvertedImage convertOne(
      ImageReference source, SourceImage image, ImageReference destination)
      throws RegistryException, IOException {
    ImageManifest ociManifest = toOciTypes(image.manifest().manifest());
    copyBlob(source, destination, ociManifest.config());
    for (Descriptor layer : ociManifest.layers()) {
      copyBlob(source, destination, layer);
    }

    Map<Digest, LayerIndexResult> results = pool.indexAll(source, ociManifest.layers());
    List<Descriptor> ztocs = new ArrayList<>();
    for (LayerIndexResult result : results.values()) {
      if (result instanceof LayerIndexResult.Indexed indexed) {
        client.pushBlob(destination, indexed.descriptor(), RequestBody.of(indexed.bytes()), null);
        ztocs.add(indexed.descriptor());
      }
    }
    SociIndex index = pushIndex(destination, ztocs);

    Map<String, String> annotations = new LinkedHashMap<>(ociManifest.annotationsOrEmpty());
    annotations.put(MediaTypes.ANN_SOCI_INDEX_DIGEST, index.digest().toString());
    byte[] manifestBytes = OciJson.write(ociManifest.withAnnotations(annotations));
    var pushed =
        client.pushManifest(
            destination.withDigest(Digest.sha256(manifestBytes)),
            MediaTypes.OCI_MANIFEST,
            manifestBytes);
    Descriptor manifest =
        new Descriptor(
            MediaTypes.OCI_MANIFEST,
            pushed.digest(),
            manifestBytes.length,
            null,
            null,
            image.platform(),
            null);
    List<LayerIndexResult> perLayer =
        ociManifest.layers().stream().map(l -> results.get(l.digest())).toList();
    Descriptor sourceDescriptor =
        Descriptor.of(
            image.manifest().mediaType(), image.manifest().digest(), image.manifest().size());
    return new ConvertedImage(image.platform(), sourceDescriptor, manifest, index, perLayer);
  }

  private SociIndex pushIndex(ImageReference destination, List<Descriptor> ztocs)
      throws RegistryException {
    Descriptor config = SociIndex.emptyConfig(IndexVersion.V2);
    client.pushBlob(destination, config, RequestBody.of(SociIndex.emptyConfigBytes()), null);
    ImageManifest document =
        SociIndex.document(IndexVersion.V2, ztocs, null, options.buildToolIdentifier());
    byte[] bytes = OciJson.write(document);
    Digest digest = Digest.sha256(bytes);
    client.pushManifest(destination.withDigest(digest), MediaTypes.OCI_MANIFEST, bytes);
    return new SociIndex(digest, bytes.length, IndexVersion.V2, document);
  }

  private static Descriptor indexEntry(ConvertedImage image) {
    return new Descriptor(
        MediaTypes.OCI_MANIFEST,
        image.index().digest(),
        image.index().size(),
        null,
        Map.of(MediaTypes.ANN_SOCI_MANIFEST_DIGEST, image.manifest().digest().toString()),
        image.platform(),
        MediaTypes.SOCI_INDEX_V2);
  }

  /** Copies a blob between repositories: a mount on the same registry, else a stream. */
  private void copyBlob(ImageReference source, ImageReference destination, Descriptor blob)
      throws RegistryException {
    boolean sameRepository =
        source.registry().equals(destination.registry())
            && source.repository().equals(destination.repository());
    if (sameRepository) {
      return;
    }
    String mountFrom =
        source.registry().equals(destination.registry()) ? source.repository() : null;
    client.pushBlob(destination, blob, new RegistryBlobBody(client, source, blob), mountFrom);
  }

  /** The manifest with OCI media types (a converted image is an OCI image); digests unchanged. */
  static ImageManifest toOciTypes(ImageManifest manifest) {
    Descriptor config = manifest.config();
    if (config.mediaType().equals(MediaTypes.DOCKER_CONFIG)) {
      config = withMediaType(config, MediaTypes.OCI_CONFIG);
    }
    List<Descriptor> layers =
        manifest.layers().stream().map(l -> withMediaType(l, ociLayerType(l.mediaType()))).toList();
    return new ImageManifest(
        2,
        MediaTypes.OCI_MANIFEST,
        manifest.artifactType(),
        config,
        layers,
        manifest.subject(),
        manifest.annotations(),
        manifest.otherFields());
  }

  private static String ociLayerType(String mediaType) {
    return switch (mediaType) {
      case MediaTypes.DOCKER_LAYER_GZIP -> MediaTypes.OCI_LAYER_GZIP;
      case "application/vnd.docker.image.rootfs.diff.tar" -> MediaTypes.OCI_LAYER;
      default -> mediaType;
    };
  }

  private static Descriptor withMediaType(Descriptor d, String mediaType) {
    return new Descriptor(
        mediaType, d.digest(), d.size(), d.urls(), d.annotations(), d.platform(), d.artifactType());
  }

  /** A blob of another registry as an upload body; opened again if the upload is retried. */
  private record RegistryBlobBody(RegistryClient client, ImageReference source, Descriptor blob)
      implements RequestBody {
    @Override
    public long length() {
      return blob.size();
    }

    @Override
    public InputStream open() throws IOException {
      try {
        return client.openRange(source, blob.digest(), blob.size(), 0, blob.size());
      } catch (RegistryException e) {
        throw new IOException(e.getMessage(), e);
      }
    }
  }

  /** One platform's source image manifest. */
  record SourceImage(Platform platform, FetchedManifest manifest) {}

  /** Picks the platform manifests to convert from what the source reference names. */
  private record PlatformSelector(RegistryClient client, IndexingOptions options) {

    List<SourceImage> select(ImageReference source) throws RegistryException, IOException {
      FetchedManifest top = client.fetchManifest(source);
      if (!top.isIndex()) {
        return List.of(new SourceImage(platformOf(source, top), top));
      }
      List<Descriptor> candidates =
          top.index().manifests().stream()
              .filter(d -> d.artifactType() == null)
              .filter(d -> d.platform() instanceof Platform p && !p.os().equals("unknown"))
              .toList();
      List<Descriptor> chosen = options.allPlatforms() ? candidates : List.of(pick(source, top));
      List<SourceImage> images = new ArrayList<>();
      for (Descriptor d : chosen) {
        FetchedManifest m = client.fetchManifest(source.withDigest(d.digest()));
        images.add(new SourceImage(java.util.Objects.requireNonNull(d.platform()), m));
      }
      return images;
    }

    private Descriptor pick(ImageReference source, FetchedManifest top) throws SociException {
      Platform asked = options.platform();
      Platform wanted = asked != null ? asked : Platform.host();
      return top.index()
          .manifestFor(wanted)
          .orElseThrow(
              () ->
                  new SociException(
                      "converting "
                          + source
                          + ": the image has no "
                          + wanted
                          + " manifest (it has "
                          + top.index().manifests().stream()
                              .map(d -> String.valueOf(d.platform()))
                              .collect(Collectors.joining(", "))
                          + "); pick one with --platform or use --all-platforms"));
    }

    private Platform platformOf(ImageReference source, FetchedManifest manifest)
        throws RegistryException, IOException {
      byte[] configBytes = client.fetchBlobBytes(source, manifest.manifest().config());
      ImageConfig config = OciJson.read(configBytes, ImageConfig.class);
      String os = config.os() == null ? "linux" : config.os();
      String arch = config.architecture() == null ? "amd64" : config.architecture();
      Platform platform = new Platform(arch, os, config.variant());
      Platform wanted = options.platform();
      if (wanted != null && !wanted.matches(platform)) {
        throw new SociException(
            "converting "
                + source
                + ": the image is "
                + platform
                + ", not "
                + wanted
                + "; drop --platform or name the right image");
      }
      return platform;
    }
  }
}
