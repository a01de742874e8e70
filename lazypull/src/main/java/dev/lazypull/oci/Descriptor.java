package dev.lazypull.oci;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** An OCI content descriptor: what a manifest or index says about one blob. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Descriptor(
    String mediaType,
    Digest digest,
    long size,
    @Nullable List<String> urls,
    @Nullable Map<String, String> annotations,
    @Nullable Platform platform,
    @Nullable String artifactType) {

  /** A descriptor with only the three required fields. */
  public static Descriptor of(String mediaType, Digest digest, long size) {
    return new Descriptor(mediaType, digest, size, null, null, null, null);
  }

  /** The annotations, never null. */
  public Map<String, String> annotationsOrEmpty() {
    return annotations == null ? Map.of() : annotations;
  }

  /** A copy with other annotations. */
  public Descriptor withAnnotations(@Nullable Map<String, String> newAnnotations) {
    return new Descriptor(mediaType, digest, size, urls, newAnnotations, platform, artifactType);
  }
}
