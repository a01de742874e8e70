package dev.lazypull.ztoc;

import dev.lazypull.oci.Digest;
import java.util.List;

/**
 * The zTOC's compression section: one digest per span and how spans are cut.
 *
 * @param spanDigests sha256 of each span's compressed bytes, {@code max_span_id + 1} of them
 */
public record CompressionInfo(
    CompressionAlgorithm algorithm, List<Digest> spanDigests, SpanLayout layout) {

  public CompressionInfo {
    spanDigests = List.copyOf(spanDigests);
  }

  /** The highest span id ({@code max_span_id}). */
  public int maxSpanId() {
    return spanDigests.size() - 1;
  }
}
