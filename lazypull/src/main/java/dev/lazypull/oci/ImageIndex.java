package dev.lazypull.oci;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * An OCI image index or Docker manifest list. Unmodelled fields are kept in {@code otherFields} so
 * that a re-written index loses nothing.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"schemaVersion", "mediaType", "artifactType", "manifests", "subject"})
public record ImageIndex(
    int schemaVersion,
    @Nullable String mediaType,
    @Nullable String artifactType,
    List<Descriptor> manifests,
    @Nullable Descriptor subject,
    @Nullable Map<String, String> annotations,
    @JsonAnySetter @JsonAnyGetter Map<String, Object> otherFields) {

  public ImageIndex {
    manifests = manifests == null ? List.of() : List.copyOf(manifests);
    otherFields = otherFields == null ? new LinkedHashMap<>() : otherFields;
  }

  /** An OCI index listing the given manifests. */
  public static ImageIndex of(List<Descriptor> manifests) {
    return new ImageIndex(2, MediaTypes.OCI_INDEX, null, manifests, null, null, Map.of());
  }

  /**
   * The first manifest for the platform: the first match wins, as in containerd and skopeo, which
   * is why SOCI v2 indexes put image manifests before SOCI index descriptors.
   */
  public Optional<Descriptor> manifestFor(Platform wanted) {
    return manifests.stream()
        .filter(d -> wanted.matches(d.platform()))
        .filter(d -> d.artifactType() == null)
        .findFirst();
  }

  /** A copy with other manifests; every other field is kept. */
  public ImageIndex withManifests(List<Descriptor> newManifests) {
    return new ImageIndex(
        schemaVersion, mediaType, artifactType, newManifests, subject, annotations, otherFields);
  }
}
