package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A SOCI index: an OCI image manifest whose config is the empty config typed with the index's
 * artifact type and whose layers are the zTOCs, in image-layer order.
 *
 * @param digest the digest of the index manifest's bytes
 * @param size the byte size of the index manifest
 * @param version v1 (has a subject) or v2 (named by its image's annotation)
 * @param manifest the parsed index manifest
 */
public record SociIndex(Digest digest, long size, IndexVersion version, ImageManifest manifest) {

  /** The empty config blob every index names: two bytes, {@code {}}. */
  private static final byte[] EMPTY_CONFIG = "{}".getBytes(StandardCharsets.US_ASCII);

  /** The empty config's content. */
  public static byte[] emptyConfigBytes() {
    return EMPTY_CONFIG.clone();
  }

  /** The empty config's descriptor, typed with the index version's artifact type. */
  public static Descriptor emptyConfig(IndexVersion version) {
    return Descriptor.of(version.artifactType(), Digest.sha256(EMPTY_CONFIG), EMPTY_CONFIG.length);
  }

  /** The descriptor of a zTOC blob indexing {@code layer}. */
  public static Descriptor ztocDescriptor(Descriptor layer, byte[] ztocBytes, long spanSize) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(MediaTypes.ANN_SOCI_LAYER_DIGEST, layer.digest().toString());
    annotations.put(MediaTypes.ANN_SOCI_LAYER_MEDIA_TYPE, layer.mediaType());
    annotations.put(MediaTypes.ANN_SOCI_SPAN_SIZE, Long.toString(spanSize));
    return Descriptor.of(MediaTypes.SOCI_ZTOC, Digest.sha256(ztocBytes), ztocBytes.length)
        .withAnnotations(annotations);
  }

  /** The index manifest document; {@code subject} only for v1. */
  public static ImageManifest document(
      IndexVersion version,
      List<Descriptor> ztocs,
      @Nullable Descriptor subject,
      String buildToolIdentifier) {
    return ImageManifest.of(MediaTypes.OCI_MANIFEST, emptyConfig(version), ztocs, subject)
        .withAnnotations(Map.of(MediaTypes.ANN_SOCI_BUILD_TOOL, buildToolIdentifier));
  }

  /**
   * Parses fetched index bytes. {@code what} names the index in messages.
   *
   * @throws SociException when the document is not a SOCI index
   */
  public static SociIndex parse(Digest digest, byte[] bytes, String what) throws SociException {
    ImageManifest manifest;
    try {
      manifest = OciJson.read(bytes, ImageManifest.class);
    } catch (IOException | RuntimeException e) {
      throw new SociException(
          what
              + " is not an OCI manifest ("
              + String.valueOf(e.getMessage()).lines().findFirst().orElse("")
              + ")",
          e);
    }
    String configType = manifest.config() == null ? "" : manifest.config().mediaType();
    String type = manifest.artifactType() != null ? manifest.artifactType() : configType;
    IndexVersion version =
        IndexVersion.ofArtifactType(type)
            .or(() -> IndexVersion.ofArtifactType(configType))
            .orElseThrow(
                () ->
                    new SociException(
                        what
                            + " is not a SOCI index (its type is '"
                            + type
                            + "'); check the index digest"));
    return new SociIndex(digest, bytes.length, version, manifest);
  }

  /** The zTOC descriptors, in order; other layer types (prefetch artifacts...) are skipped. */
  public List<Descriptor> ztocs() {
    return manifest.layers().stream()
        .filter(d -> d.mediaType().equals(MediaTypes.SOCI_ZTOC))
        .filter(d -> d.annotationsOrEmpty().containsKey(MediaTypes.ANN_SOCI_LAYER_DIGEST))
        .toList();
  }

  /** The index's descriptor, as a referrers list or an OCI index names it. */
  public Descriptor descriptor() {
    return Descriptor.of(MediaTypes.OCI_MANIFEST, digest, size);
  }
}
