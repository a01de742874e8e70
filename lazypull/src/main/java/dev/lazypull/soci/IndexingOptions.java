package dev.lazypull.soci;

import dev.lazypull.oci.Platform;
import dev.lazypull.ztoc.ZtocBuilder;
import org.jspecify.annotations.Nullable;

/**
 * How to index an image.
 *
 * @param spanSize uncompressed bytes per span
 * @param minLayerSize layers with fewer compressed bytes get no zTOC
 * @param platform the platform to index, or null for the registry options' platform
 * @param allPlatforms whether to index every platform of an image index
 * @param parallelism layers indexed at the same time
 * @param buildToolIdentifier written into each zTOC and index
 */
public record IndexingOptions(
    long spanSize,
    long minLayerSize,
    @Nullable Platform platform,
    boolean allPlatforms,
    int parallelism,
    String buildToolIdentifier) {

  /** SOCI's default minimum layer size: 10 MiB compressed. */
  public static final long DEFAULT_MIN_LAYER_SIZE = 10L << 20;

  public IndexingOptions {
    if (spanSize <= 0) {
      throw new IllegalArgumentException("span size must be positive, got " + spanSize);
    }
    if (minLayerSize < 0) {
      throw new IllegalArgumentException("minimum layer size must be >= 0, got " + minLayerSize);
    }
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, got " + parallelism);
    }
  }

  /** SOCI's defaults, the host's platform, two layers at a time. */
  public static IndexingOptions defaults(String buildToolIdentifier) {
    return new IndexingOptions(
        ZtocBuilder.DEFAULT_SPAN_SIZE,
        DEFAULT_MIN_LAYER_SIZE,
        null,
        false,
        Math.min(2, Runtime.getRuntime().availableProcessors()),
        buildToolIdentifier);
  }

  public IndexingOptions withSpanSize(long bytes) {
    return new IndexingOptions(
        bytes, minLayerSize, platform, allPlatforms, parallelism, buildToolIdentifier);
  }

  public IndexingOptions withMinLayerSize(long bytes) {
    return new IndexingOptions(
        spanSize, bytes, platform, allPlatforms, parallelism, buildToolIdentifier);
  }

  public IndexingOptions withParallelism(int layers) {
    return new IndexingOptions(
        spanSize, minLayerSize, platform, allPlatforms, layers, buildToolIdentifier);
  }

  public IndexingOptions withPlatform(@Nullable Platform newPlatform, boolean all) {
    return new IndexingOptions(
        spanSize, minLayerSize, newPlatform, all, parallelism, buildToolIdentifier);
  }
}
