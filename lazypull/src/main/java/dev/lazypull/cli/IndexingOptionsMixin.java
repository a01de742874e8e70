package dev.lazypull.cli;

import dev.lazypull.oci.Platform;
import dev.lazypull.soci.IndexingOptions;
import dev.lazypull.ztoc.ZtocBuilder;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Options of the commands that build zTOCs for an image's layers. */
public final class IndexingOptionsMixin {

  @Option(
      names = "--span-size",
      paramLabel = "BYTES",
      description = "Uncompressed bytes per span (default ${DEFAULT-VALUE}).")
  long spanSize = ZtocBuilder.DEFAULT_SPAN_SIZE;

  @Option(
      names = "--min-layer-size",
      paramLabel = "BYTES",
      description = "Layers smaller than this get no zTOC (default ${DEFAULT-VALUE}).")
  long minLayerSize = IndexingOptions.DEFAULT_MIN_LAYER_SIZE;

  @Option(
      names = "--jobs",
      paramLabel = "N",
      description = "Layers indexed at the same time (default: 2, or 1 on one core).")
  int jobs = Math.min(2, Runtime.getRuntime().availableProcessors());

  IndexingOptions options(@Nullable Platform platform, boolean allPlatforms) {
    if (jobs < 1) {
      throw new UsageError.InvalidOption("--jobs must be at least 1, got " + jobs);
    }
    return IndexingOptions.defaults("lazypull " + Version.current())
        .withSpanSize(spanSize)
        .withMinLayerSize(minLayerSize)
        .withParallelism(jobs)
        .withPlatform(platform, allPlatforms);
  }
}
