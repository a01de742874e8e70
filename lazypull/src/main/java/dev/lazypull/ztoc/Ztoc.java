package dev.lazypull.ztoc;

import java.util.ArrayList;
import java.util.List;

/**
 * A SOCI zTOC: the table of contents of one layer plus what is needed to decompress any span of it
 * on its own.
 */
public record Ztoc(
    String version,
    String buildToolIdentifier,
    long compressedArchiveSize,
    long uncompressedArchiveSize,
    List<FileMetadata> files,
    CompressionInfo compressionInfo) {

  /** The zTOC format version lazypull writes. */
  public static final String VERSION = "0.9";

  public Ztoc {
    files = List.copyOf(files);
  }

  /** This zTOC without its file list, for readers that need only the spans. */
  public Ztoc withoutFiles() {
    return new Ztoc(
        version,
        buildToolIdentifier,
        compressedArchiveSize,
        uncompressedArchiveSize,
        List.of(),
        compressionInfo);
  }

  public int spanCount() {
    return compressionInfo.spanDigests().size();
  }

  /** The span's compressed and uncompressed ranges and digest. */
  public Span span(int id) {
    var digest = compressionInfo.spanDigests().get(id);
    return switch (compressionInfo.layout()) {
      case GzipCheckpoints g -> gzipSpan(g, id, digest);
      case TarZinfo t ->
          new Span(
              id,
              id * t.spanSize(),
              Math.min(uncompressedArchiveSize, (id + 1) * t.spanSize()),
              id * t.spanSize(),
              Math.min(uncompressedArchiveSize, (id + 1) * t.spanSize()),
              digest);
    };
  }

  private Span gzipSpan(GzipCheckpoints g, int id, dev.lazypull.oci.Digest digest) {
    Checkpoint c = g.checkpoint(id);
    boolean last = id == g.spanCount() - 1;
    long compressedEnd = last ? compressedArchiveSize : g.checkpoint(id + 1).compressedOffset();
    long uncompressedEnd =
        last ? uncompressedArchiveSize : g.checkpoint(id + 1).uncompressedOffset();
    return new Span(
        id,
        c.spanCompressedStart(),
        compressedEnd,
        c.uncompressedOffset(),
        uncompressedEnd,
        digest);
  }

  /** All spans in order. */
  public List<Span> spans() {
    List<Span> spans = new ArrayList<>(spanCount());
    for (int i = 0; i < spanCount(); i++) {
      spans.add(span(i));
    }
    return spans;
  }

  /**
   * The span holding uncompressed byte {@code uncompressedOffset}: the last one starting at or
   * before it.
   */
  public int spanOf(long uncompressedOffset) {
    int low = 0;
    int high = spanCount() - 1;
    while (low < high) {
      int mid = (low + high + 1) >>> 1;
      if (spanUncompressedStart(mid) <= uncompressedOffset) {
        low = mid;
      } else {
        high = mid - 1;
      }
    }
    return low;
  }

  private long spanUncompressedStart(int id) {
    return switch (compressionInfo.layout()) {
      case GzipCheckpoints g -> g.checkpoint(id).uncompressedOffset();
      case TarZinfo t -> id * t.spanSize();
    };
  }

  /**
   * The file whose normalised path is {@code path} (leading slash optional), if listed. Matches
   * names whose bytes are {@code path} in UTF-8; find other names with {@link #find(byte[])}.
   */
  public java.util.Optional<FileMetadata> find(String path) {
    return find(path.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** The file whose normalised path bytes equal those of {@code path}, if listed. */
  public java.util.Optional<FileMetadata> find(byte[] path) {
    byte[] wanted = TarPaths.clean(path);
    FileMetadata found = null;
    for (FileMetadata file : files) {
      if (java.util.Arrays.equals(file.pathBytes(), wanted)) {
        found = file; // a later entry for the same path replaces an earlier one
      }
    }
    return java.util.Optional.ofNullable(found);
  }
}
