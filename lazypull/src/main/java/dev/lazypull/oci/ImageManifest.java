package dev.lazypull.oci;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An OCI or Docker v2 image manifest. Fields this record does not model are kept in {@code
 * otherFields} so that re-writing a manifest loses nothing; digests are over bytes, so keep the
 * fetched bytes too when the exact document matters.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({
  "schemaVersion",
  "mediaType",
  "artifactType",
  "config",
  "layers",
  "subject",
  "annotations"
})
public record ImageManifest(
    int schemaVersion,
    @Nullable String mediaType,
    @Nullable String artifactType,
    Descriptor config,
    List<Descriptor> layers,
    @Nullable Descriptor subject,
    @Nullable Map<String, String> annotations,
    @JsonAnySetter @JsonAnyGetter Map<String, Object> otherFields) {

  public ImageManifest {
    layers = layers == null ? List.of() : List.copyOf(layers);
    otherFields = otherFields == null ? new LinkedHashMap<>() : otherFields;
  }

  /** A manifest with the given parts and nothing else. */
  public static ImageManifest of(
      String mediaType, Descriptor config, List<Descriptor> layers, @Nullable Descriptor subject) {
    return new ImageManifest(2, mediaType, null, config, layers, subject, null, Map.of());
  }

  /** The annotations, never null. */
  public Map<String, String> annotationsOrEmpty() {
    return annotations == null ? Map.of() : annotations;
  }

  /** A copy with other annotations; every other field is kept. */
  public ImageManifest withAnnotations(@Nullable Map<String, String> newAnnotations) {
    return new ImageManifest(
        schemaVersion,
        mediaType,
        artifactType,
        config,
        layers,
        subject,
        newAnnotations,
        otherFields);
  }

  /** A copy with other layers; every other field is kept. */
  public ImageManifest withLayers(List<Descriptor> newLayers) {
    return new ImageManifest(
        schemaVersion,
        mediaType,
        artifactType,
        config,
        newLayers,
        subject,
        annotations,
        otherFields);
  }
}
