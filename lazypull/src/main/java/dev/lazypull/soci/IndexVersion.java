package dev.lazypull.soci;

import dev.lazypull.oci.MediaTypes;
import java.util.Optional;

/** The two SOCI index versions: v1 points at its image, v2 is pointed at by its image. */
public enum IndexVersion {
  V1(MediaTypes.SOCI_INDEX_V1),
  V2(MediaTypes.SOCI_INDEX_V2);

  private final String artifactType;

  IndexVersion(String artifactType) {
    this.artifactType = artifactType;
  }

  /** The index's artifact type, also its config's media type. */
  public String artifactType() {
    return artifactType;
  }

  /** The version whose artifact type this is. */
  public static Optional<IndexVersion> ofArtifactType(String type) {
    for (IndexVersion v : values()) {
      if (v.artifactType.equals(type)) {
        return Optional.of(v);
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
