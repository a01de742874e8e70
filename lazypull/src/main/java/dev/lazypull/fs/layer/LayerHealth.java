package dev.lazypull.fs.layer;

import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a layer was found not to match its digests. Once bad, a layer stays bad: every read fails
 * with {@link BadLayerException} and the first reason is kept and logged once.
 */
final class LayerHealth {
  private static final Logger log = LoggerFactory.getLogger(LayerHealth.class);

  private final String layer;
  private final AtomicReference<@Nullable String> badReason = new AtomicReference<>();

  /**
   * @param layer names the layer in messages (its digest)
   */
  LayerHealth(String layer) {
    this.layer = layer;
  }

  void markBad(String reason) {
    if (badReason.compareAndSet(null, reason)) {
      log.error("layer {} marked bad, its reads fail with EIO: {}", layer, reason);
    }
  }

  void check() throws BadLayerException {
    String reason = badReason.get();
    if (reason != null) {
      throw new BadLayerException("layer " + layer + " is marked bad: " + reason);
    }
  }
}
