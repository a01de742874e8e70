package dev.lazypull.fs.layer;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * On-demand reads of the whole process, for the background fetcher to yield to. It is process-wide
 * rather than per layer because all layers, and in the snapshotter all mounts, share one link to
 * the registry: a background fetch of the base layer slows a read of the application layer as much
 * as one of its own.
 */
public final class OnDemandActivity {
  private static final AtomicInteger READS_IN_PROGRESS = new AtomicInteger();
  private static final AtomicLong LAST_FETCH_NANOS =
      new AtomicLong(System.nanoTime() - Duration.ofHours(1).toNanos());

  private OnDemandActivity() {}

  static void readStarted() {
    READS_IN_PROGRESS.incrementAndGet();
  }

  static void readEnded() {
    READS_IN_PROGRESS.decrementAndGet();
  }

  /** A read had to wait for bytes from the registry. */
  static void fetched() {
    LAST_FETCH_NANOS.set(System.nanoTime());
  }

  /** Whether a read is in progress, or one fetched from the registry within {@code quiet}. */
  public static boolean busy(Duration quiet) {
    return READS_IN_PROGRESS.get() > 0
        || System.nanoTime() - LAST_FETCH_NANOS.get() < quiet.toNanos();
  }
}
