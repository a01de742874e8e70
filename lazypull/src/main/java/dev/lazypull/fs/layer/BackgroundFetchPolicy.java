package dev.lazypull.fs.layer;

import java.time.Duration;

/**
 * How the background fetcher shares the registry link with on-demand reads. On a slow link every
 * byte fetched in the background delays a read that a starting process waits for, so the fetcher
 * keeps away from the start-up burst: it waits {@code startDelay} after the mount (the SOCI
 * snapshotter's "silence period" on a new mount, 30 s by default there), waits while any on-demand
 * read of the process is in progress or has fetched within {@code quietAfterDemand}, and then pulls
 * at most {@code bytesPerSecond} (0: as fast as the registry sends).
 */
public record BackgroundFetchPolicy(
    Duration startDelay, Duration quietAfterDemand, long bytesPerSecond) {

  /** At once and at full speed, yielding only to reads in progress: for tests and for tools. */
  public static final BackgroundFetchPolicy IMMEDIATE =
      new BackgroundFetchPolicy(Duration.ZERO, Duration.ZERO, 0);

  public static final Duration DEFAULT_START_DELAY = Duration.ofSeconds(30);

  /**
   * A starting process misses spans in bursts a few hundred milliseconds apart (python imports one
   * module after another); a second of quiet means the burst is over.
   */
  public static final Duration DEFAULT_QUIET = Duration.ofSeconds(1);

  public BackgroundFetchPolicy {
    if (startDelay.isNegative() || quietAfterDemand.isNegative() || bytesPerSecond < 0) {
      throw new IllegalArgumentException(
          "background fetch: the start delay, quiet time and rate must not be negative");
    }
  }

  public static BackgroundFetchPolicy defaults() {
    return new BackgroundFetchPolicy(DEFAULT_START_DELAY, DEFAULT_QUIET, 0);
  }

  /** A pacer for one run of the background fetcher, whose start delay counts from now. */
  public BackgroundPacer pacer() {
    return new BackgroundPacer(this);
  }
}
