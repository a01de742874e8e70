package dev.lazypull.fs.layer;

import java.util.concurrent.atomic.AtomicLong;

/** What a mount fetched, for {@code --stats}, logs and metrics. Shared by a mount's layers. */
public final class FetchCounters {
  final AtomicLong onDemandSpans = new AtomicLong();
  final AtomicLong backgroundSpans = new AtomicLong();
  final AtomicLong compressedBytes = new AtomicLong();
  final AtomicLong requests = new AtomicLong();
  final AtomicLong digestMismatches = new AtomicLong();
  final AtomicLong cacheWriteFailures = new AtomicLong();

  public long onDemandSpans() {
    return onDemandSpans.get();
  }

  public long backgroundSpans() {
    return backgroundSpans.get();
  }

  /** Compressed bytes fetched for spans. */
  public long compressedBytes() {
    return compressedBytes.get();
  }

  public long requests() {
    return requests.get();
  }

  public long digestMismatches() {
    return digestMismatches.get();
  }

  public long cacheWriteFailures() {
    return cacheWriteFailures.get();
  }
}
