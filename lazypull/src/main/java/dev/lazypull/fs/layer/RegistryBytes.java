package dev.lazypull.fs.layer;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A layer's compressed bytes from the registry by ranged GET. The client already retries refused
 * connections, 429 and 5xx; this adds retries for a body that breaks off, with backoff and jitter,
 * all within one deadline so that no read waits without a bound.
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

  @Override
  public byte[] fetch(long compressedOffset, int length) throws IOException {
    long giveUpAt = System.nanoTime() + deadline.toNanos();
    IOException last = null;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) {
        pause(attempt, giveUpAt);
      }
      try (InputStream in =
          client.openRange(repository, layer.digest(), layer.size(), compressedOffset, length)) {
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
      if (System.nanoTime() > giveUpAt) {
        break;
      }
    }
    throw new IOException(
        "fetching bytes "
            + compressedOffset
            + "+"
            + length
            + " of layer "
            + layer.digest()
            + " from "
            + repository.registry()
            + " failed: "
            + (last == null ? "no attempt" : last.getMessage()),
        last);
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
