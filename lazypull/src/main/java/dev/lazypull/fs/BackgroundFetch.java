package dev.lazypull.fs;

import dev.lazypull.fs.layer.BackgroundPacer;
import dev.lazypull.fs.layer.BadLayerException;
import dev.lazypull.fs.layer.EstargzLayer;
import dev.lazypull.fs.layer.IndexedLayer;
import dev.lazypull.fs.layer.LayerReader;
import dev.lazypull.fs.layer.LocalLayer;
import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls the rest of one lazily read layer for the background fetcher of a mount ({@link LazyImage})
 * or of the snapshotter ({@link LazyLayer}), on the caller's thread.
 */
public final class BackgroundFetch {
  private static final Logger log = LoggerFactory.getLogger(BackgroundFetch.class);

  /** Pauses before the background fetch of a layer tries again: doubling from 1 s to 60 s. */
  private static final Duration FIRST_RETRY = Duration.ofSeconds(1);

  private static final Duration MAX_RETRY = Duration.ofSeconds(60);

  private BackgroundFetch() {}

  /** Fetches {@code layer} until it is complete, bad, or the thread is interrupted. */
  static void fetch(LayerReader layer, BackgroundPacer pacer) {
    switch (layer) {
      case IndexedLayer indexed -> fetch(indexed, pacer);
      case EstargzLayer estargz -> fetch(estargz, pacer);
      case LocalLayer local -> {}
    }
  }

  /**
   * Tries again after a failure (a registry outage, bytes that kept failing their digest) with a
   * growing pause, so that a fault that clears does not leave the layer partly fetched for the rest
   * of the mount.
   */
  private static void fetch(IndexedLayer layer, BackgroundPacer pacer) {
    Duration pause = FIRST_RETRY;
    for (int failures = 0; !Thread.currentThread().isInterrupted(); failures++) {
      try {
        if (layer.fetchAllInBackground(pacer)) {
          log.info("layer {} is now fully local and its digest checked", layer.describe());
        }
        return;
      } catch (BadLayerException e) {
        return; // logged once when the layer was marked bad
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (IOException e) {
        if (Thread.currentThread().isInterrupted()) {
          return;
        }
        if (failures == 0) {
          log.warn(
              "background fetch of layer {} failed ({}); trying again, first in {} s",
              layer.describe(),
              e.getMessage(),
              pause.toSeconds());
        } else {
          log.debug(
              "background fetch of layer {} failed again: {}", layer.describe(), e.getMessage());
        }
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      pause = pause.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : pause.multipliedBy(2);
    }
  }

  private static void fetch(EstargzLayer layer, BackgroundPacer pacer) {
    try {
      if (layer.fetchAllInBackground(pacer)) {
        log.info("eStargz layer {} is now fully local, every chunk checked", layer.describe());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      log.warn("background fetch of layer {} stopped: {}", layer.describe(), e.getMessage());
    }
  }
}
