package dev.lazypull.fs.layer;

/**
 * Paces one background fetch run by its {@link BackgroundFetchPolicy}: {@link #awaitTurn} before
 * each request, {@link #fetched} after it.
 */
public final class BackgroundPacer {
  private static final long POLL_MILLIS = 5;

  private final BackgroundFetchPolicy policy;
  private final long startNanos;
  private long rateStartNanos;
  private long bytesSinceRateStart;

  BackgroundPacer(BackgroundFetchPolicy policy) {
    this.policy = policy;
    this.startNanos = System.nanoTime();
    this.rateStartNanos = startNanos;
  }

  /**
   * Waits until the start delay has passed and no on-demand read is in progress or has fetched
   * within the quiet time. Yields within one request's time: the caller asks before each request.
   */
  public void awaitTurn() throws InterruptedException {
    long delayLeft = startNanos + policy.startDelay().toNanos() - System.nanoTime();
    if (delayLeft > 0) {
      Thread.sleep(delayLeft / 1_000_000, (int) (delayLeft % 1_000_000));
    }
    boolean waited = false;
    while (OnDemandActivity.busy(policy.quietAfterDemand())) {
      waited = true;
      Thread.sleep(POLL_MILLIS);
    }
    if (waited) {
      // Time spent yielding is not time the background had: the rate counts from here.
      rateStartNanos = System.nanoTime();
      bytesSinceRateStart = 0;
    }
  }

  /** Sleeps as long as the rate limit asks after {@code bytes} more were fetched. */
  public void fetched(long bytes) throws InterruptedException {
    if (policy.bytesPerSecond() == 0) {
      return;
    }
    bytesSinceRateStart += bytes;
    long due = rateStartNanos + (long) (bytesSinceRateStart * 1e9 / policy.bytesPerSecond());
    long wait = due - System.nanoTime();
    if (wait > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }
}
