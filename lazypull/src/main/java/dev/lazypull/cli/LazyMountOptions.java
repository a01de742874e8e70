package dev.lazypull.cli;

import dev.lazypull.fs.LazyImage;
import dev.lazypull.fs.layer.BackgroundFetchPolicy;
import dev.lazypull.oci.Digest;
import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Options of the commands that mount an image lazily: which index to trust, cache, timeouts. */
public final class LazyMountOptions {
  private static final long MAX_MIB = Long.MAX_VALUE >> 20;
  private static final long MAX_SECONDS = 1_000_000_000L;

  @Option(
      names = "--index",
      paramLabel = "DIGEST",
      description = "Use this SOCI index (default: the image manifest's v2 annotation).")
  @Nullable String index;

  @Option(
      names = "--allow-v1",
      description =
          "Also trust v1 indexes found through referrers or their tag (anyone who can push can"
              + " change those).")
  boolean allowV1;

  @Option(
      names = "--cache-dir",
      paramLabel = "DIR",
      description = "Where fetched spans and whole layers are kept (default: ${DEFAULT-VALUE}).")
  Path cacheDir = Path.of("/var/lib/lazypull/cache");

  @Option(
      names = "--cache-size",
      paramLabel = "MIB",
      description = "Size limit of the span cache in MiB (default: ${DEFAULT-VALUE}).")
  long cacheMib = 10_240;

  @Option(
      names = "--read-timeout",
      paramLabel = "SECONDS",
      description =
          "How long a read may wait for the registry before it fails with EIO"
              + " (default: ${DEFAULT-VALUE}).")
  long readTimeoutSeconds = 60;

  @Option(
      names = "--no-background-fetch",
      description = "Fetch only what is read; do not pull the rest in the background.")
  boolean noBackgroundFetch;

  @Option(
      names = "--background-delay",
      paramLabel = "SECONDS",
      description =
          "Wait this long after the mount before fetching in the background, so that the"
              + " start-up reads have the link to themselves (default: ${DEFAULT-VALUE}, as the"
              + " SOCI snapshotter's silence period).")
  long backgroundDelaySeconds = BackgroundFetchPolicy.DEFAULT_START_DELAY.toSeconds();

  @Option(
      names = "--background-rate",
      paramLabel = "MIB",
      description =
          "Fetch at most this many MiB per second in the background (default: 0, no limit).")
  long backgroundRateMib;

  // On by default: a cached read through FUSE alone runs at about 0.4-0.7x of local disk, with
  // passthrough at local-disk speed (bench/lazy-read.sh). It was opt-in while concurrent opens of
  // one file failed with EIO, which the transport now prevents (docs/fuse.md, Passthrough). Where
  // the kernel or the user's privileges do not allow it, opens fall back to ordinary reads.
  @Option(
      names = "--passthrough",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Let the kernel read large files whose bytes are all cached straight from a local copy"
              + " (FUSE passthrough; local-disk speed; on unless --no-passthrough). The copies are"
              + " kept beside the cache and count in --cache-size.")
  boolean passthrough;

  @Option(
      names = "--insecure-skip-verify",
      description =
          "Mount (e)stargz layers that lack the containerd.io/snapshot/stargz/toc.digest"
              + " annotation (legacy stargz, stripped annotations) lazily through their TOC,"
              + " which then cannot be verified: a layer with neither a zTOC nor the annotation"
              + " is probed with one ranged GET of its tail. Chunk digests in the TOC are still"
              + " checked, and the background fetch checks the whole layer's digest. Insecure.")
  boolean insecureSkipVerify;

  /** Tells the user that an image without an index was fetched whole, not lazily. */
  void noticeIfUnindexed(LazyImage image, String command, String name, java.io.PrintWriter err) {
    if (!image.indexed()) {
      err.println(
          "lazypull "
              + command
              + ": "
              + name
              + " has no SOCI index; its layers were"
              + " fetched whole (lazypull convert makes one)");
    }
  }

  /** The filesystem, with passthrough for fully cached files when asked for. */
  dev.lazypull.fs.ImageFilesystem filesystem(
      LazyImage image, java.util.function.LongConsumer readObserver) {
    var filesystem =
        new dev.lazypull.fs.ImageFilesystem(image.tree(), image.layers(), readObserver);
    return passthrough ? filesystem.withPassthrough(cacheDir.resolve("files")) : filesystem;
  }

  LazyImage.Options toOptions() {
    if (cacheMib <= 0 || readTimeoutSeconds <= 0) {
      throw new UsageError.InvalidOption("--cache-size and --read-timeout must be positive");
    }
    if (cacheMib > MAX_MIB) {
      throw new UsageError.InvalidOption("--cache-size must be at most " + MAX_MIB + " (MiB)");
    }
    backgroundPolicy(); // checked before anything is mounted
    return new LazyImage.Options(
        cacheDir,
        cacheMib << 20,
        Duration.ofSeconds(readTimeoutSeconds),
        index == null ? null : Digest.parse(index),
        allowV1,
        insecureSkipVerify);
  }

  boolean backgroundFetch() {
    return !noBackgroundFetch;
  }

  BackgroundFetchPolicy backgroundPolicy() {
    if (backgroundDelaySeconds < 0 || backgroundRateMib < 0) {
      throw new UsageError.InvalidOption(
          "--background-delay and --background-rate must not be negative");
    }
    // Seconds become nanoseconds and MiB bytes: larger values would overflow (to a negative
    // rate, reported as one).
    if (backgroundDelaySeconds > MAX_SECONDS) {
      throw new UsageError.InvalidOption(
          "--background-delay must be at most " + MAX_SECONDS + " (seconds)");
    }
    if (backgroundRateMib > MAX_MIB) {
      throw new UsageError.InvalidOption(
          "--background-rate must be at most " + MAX_MIB + " (MiB/s; 0: no limit)");
    }
    return new BackgroundFetchPolicy(
        Duration.ofSeconds(backgroundDelaySeconds),
        BackgroundFetchPolicy.DEFAULT_QUIET,
        backgroundRateMib << 20);
  }
}
