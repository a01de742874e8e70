package dev.lazypull.fs.layer;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A layer's compressed bytes from the registry by ranged GET. The client already retries refused
 * connections, 429 and 5xx; this adds retries for a body that breaks off, with backoff and jitter,
 * all within one deadline (the mount's read timeout) that bounds each fetch however the registry
 * misbehaves.
 */
public final class RegistryBytes implements CompressedBytes {
  private static final int ATTEMPTS = 4;

  private final RegistryClient client;
  private final ImageReference repository;
  private final Descriptor layer;
  private final Duration deadline;

  public RegistryBytes(
      RegistryClient client, ImageReference repository, Descriptor layer, Duration deadline) {
    this.client = client;
    this.repository = repository;
    this.layer = layer;
    this.deadline = deadline;
  }

  /**
   * Fetches on a virtual thread and waits for it at most the deadline. A stalled registry can hold
   * a socket read for the HTTP client's whole read timeout, and the client's own retries add to
   * that, so only a separate thread keeps the caller's wait bounded. On timeout the fetch is
   * interrupted: a virtual thread's socket read is interruptible, so the connection is closed and
   * nothing keeps running after the caller has been told.
   */
  @Override
  public byte[] fetch(long compressedOffset, int length) throws IOException {
    long giveUpAt = System.nanoTime() + deadline.toNanos();
    var task = new FutureTask<>(() -> fetchWithRetries(compressedOffset, length, giveUpAt));
    Thread worker = Thread.ofVirtual().name("range-fetch-" + layer.digest().shortHex()).start(task);
    try {
      return task.get(Math.max(0, giveUpAt - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(failure(compressedOffset, length, String.valueOf(e.getCause())), e);
    } catch (TimeoutException e) {
      worker.interrupt();
      throw new IOException(
          failure(
              compressedOffset,
              length,
              "no answer within " + deadline.toMillis() + " ms; the registry may be slow or down"),
          e);
    } catch (InterruptedException e) {
      worker.interrupt();
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while fetching a range of " + layer.digest());
    }
  }

  private byte[] fetchWithRetries(long compressedOffset, int length, long giveUpAt)
      throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) {
        pause(attempt, giveUpAt);
      }
      try (FetchConcurrency.Permit permit =
              FetchConcurrency.acquire(giveUpAt, "fetching a range of " + layer.digest());
          InputStream in =
              client.openRange(
                  repository, layer.digest(), layer.size(), compressedOffset, length)) {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length != length) {
          throw new IOException("got " + bytes.length + " of " + length + " bytes");
        }
        return bytes;
      } catch (RegistryException e) {
        last = new IOException(e.getMessage(), e);
      } catch (InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        last = e;
      }
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedIOException("interrupted while fetching a range of " + layer.digest());
      }
      if (System.nanoTime() > giveUpAt) {
        break;
      }
    }
    throw new IOException(
        failure(
            compressedOffset,
            length,
            last == null ? "no attempt" : String.valueOf(last.getMessage())),
        last);
  }

  private String failure(long compressedOffset, int length, String why) {
    return "fetching bytes "
        + compressedOffset
        + "+"
        + length
        + " of layer "
        + layer.digest()
        + " from "
        + repository.registry()
        + " failed: "
        + why;
  }

  private static void pause(int attempt, long giveUpAt) throws InterruptedIOException {
    long backoffMillis = (100L << attempt) + ThreadLocalRandom.current().nextLong(100);
    long leftMillis = (giveUpAt - System.nanoTime()) / 1_000_000;
    try {
      Thread.sleep(Math.max(0, Math.min(backoffMillis, leftMillis)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while retrying a range request");
    }
  }
}
