package dev.lazypull.fs.layer;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The process-wide limit on ranged GETs in flight (the snapshotter's {@code [fetch] concurrency}).
 * Process-wide because the limit protects the registry and the link, which all layers and mounts
 * share. Unlimited until {@link #limit} is called.
 */
public final class FetchConcurrency {
  private static volatile @Nullable Semaphore permits;

  private FetchConcurrency() {}

  /** At most {@code requests} ranged GETs at once; 0 lifts the limit. Set once, at start-up. */
  public static void limit(int requests) {
    if (requests < 0) {
      throw new IllegalArgumentException("the fetch concurrency must not be negative");
    }
    permits = requests == 0 ? null : new Semaphore(requests, true);
  }

  /** A held permit; closing it gives it back. */
  interface Permit extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Waits for a permit until {@code giveUpAtNanos} (System.nanoTime); a wait that runs out fails
   * like a registry that did not answer, within the read's deadline.
   */
  static Permit acquire(long giveUpAtNanos, String what) throws IOException {
    Semaphore current = permits;
    if (current == null) {
      return () -> {};
    }
    try {
      long waitNanos = Math.max(0, giveUpAtNanos - System.nanoTime());
      if (!current.tryAcquire(waitNanos, TimeUnit.NANOSECONDS)) {
        throw new IOException(
            what + ": no free fetch slot before the read timeout ([fetch] concurrency is full)");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a fetch slot: " + what);
    }
    return current::release;
  }
}
