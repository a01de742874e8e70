package dev.lazypull.snapshotter;

import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One snapshot's metadata. {@code id} names its directory and never changes; {@code key} is the
 * active or view key, or the committed name after Commit.
 */
public record Snapshot(
    long id,
    String key,
    @Nullable String parent,
    SnapshotKind kind,
    Instant created,
    Instant updated,
    Map<String, String> labels,
    Usage usage) {
  public Snapshot {
    labels = Map.copyOf(labels);
  }

  /** Whether lazypull serves this snapshot's layer from a lazy mount. */
  public boolean isRemote() {
    return labels.containsKey(SnapshotLabels.REMOTE);
  }
}
