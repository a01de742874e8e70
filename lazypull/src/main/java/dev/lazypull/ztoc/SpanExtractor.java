package dev.lazypull.ztoc;

import dev.lazypull.oci.Digest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;

/**
 * Reads uncompressed bytes of a layer through its zTOC, fetching only the spans that hold them.
 * Each span's compressed bytes are checked against the zTOC's digest before they are used. Calls
 * keep no state between them, so one extractor may serve several threads at once when its range
 * source can.
 */
public final class SpanExtractor {

  private final Ztoc ztoc;
  private final CompressedRangeSource source;
  private final String what;

  /**
   * @param what names the layer in error messages (a digest or file name)
   */
  public SpanExtractor(Ztoc ztoc, CompressedRangeSource source, String what) {
    this.ztoc = ztoc;
    this.source = source;
    this.what = what;
  }

  /** Writes the data of {@code file} to {@code out}. */
  public Extraction extractFile(FileMetadata file, OutputStream out) throws IOException {
    return extract(file.uncompressedOffset(), file.uncompressedSize(), out);
  }

  /** The uncompressed bytes of span {@code spanId}, for caching whole spans. */
  public byte[] decompressSpan(int spanId) throws IOException {
    Span span = ztoc.span(spanId);
    var out = new ByteArrayOutputStream((int) span.uncompressedLength());
    extract(span.uncompressedStart(), span.uncompressedLength(), out);
    return out.toByteArray();
  }

  /** Writes uncompressed bytes {@code [uncompressedOffset, uncompressedOffset + length)}. */
  public Extraction extract(long uncompressedOffset, long length, OutputStream out)
      throws IOException {
    long end = uncompressedOffset + length;
    if (uncompressedOffset < 0 || length < 0 || end > ztoc.uncompressedArchiveSize()) {
      throw new ZtocException(
          "range ["
              + uncompressedOffset
              + ", "
              + end
              + ") is outside the "
              + ztoc.uncompressedArchiveSize()
              + "-byte uncompressed layer "
              + what);
    }
    int firstSpan = ztoc.spanOf(uncompressedOffset);
    if (length == 0) {
      return new Extraction(0, 0, firstSpan, firstSpan);
    }
    int lastSpan = ztoc.spanOf(end - 1);
    long compressedStart = ztoc.span(firstSpan).compressedStart();
    long compressedLength = ztoc.span(lastSpan).compressedEnd() - compressedStart;
    var sink = new RangeSink(uncompressedOffset, end, out);
    try (InputStream in = source.open(compressedStart, compressedLength)) {
      var spans = new VerifiedSpans(in, compressedStart);
      switch (ztoc.compressionInfo().layout()) {
        case GzipCheckpoints g -> inflateSpans(g, spans, firstSpan, lastSpan, sink);
        case TarZinfo t -> copySpans(spans, firstSpan, lastSpan, sink);
      }
    }
    if (sink.written != length) {
      throw new ZtocException(
          "layer "
              + what
              + " gave "
              + sink.written
              + " of "
              + length
              + " bytes at uncompressed offset "
              + uncompressedOffset
              + ": the zTOC does not match the layer");
    }
    return new Extraction(length, compressedLength, firstSpan, lastSpan);
  }

  private void inflateSpans(
      GzipCheckpoints g, VerifiedSpans spans, int firstSpan, int lastSpan, RangeSink sink)
      throws IOException {
    Checkpoint checkpoint = g.checkpoint(firstSpan);
    byte[] first = spans.next(ztoc.span(firstSpan));
    int skip = checkpoint.bits() == 0 ? 0 : 1;
    if (firstSpan == 0 && g.firstCheckpointRebuilt()) {
      skip += headerTail(checkpoint, first);
    }
    try (var inflater = new CheckpointInflater(checkpoint, g.window(firstSpan), first[0])) {
      boolean more = inflater.feed(first, skip, first.length, sink);
      for (int id = firstSpan + 1; id <= lastSpan && more; id++) {
        byte[] bytes = spans.next(ztoc.span(id));
        more = inflater.feed(bytes, spans.overlap(), bytes.length, sink);
      }
    }
  }

  /**
   * For a rebuilt checkpoint 0 (an older SOCI blob without it), the header bytes past offset 10
   * that start span 0: SOCI rebuilds it at 10, right only for a plain header. The layer's first
   * bytes say how long the header really is; span 0's digest still covers them, as SOCI's does.
   */
  private int headerTail(Checkpoint checkpoint, byte[] span0) throws IOException {
    byte[] fixed;
    try (InputStream in = source.open(0, checkpoint.compressedOffset())) {
      fixed = in.readNBytes((int) checkpoint.compressedOffset());
    }
    try {
      return GzipHeaderTail.length(fixed, span0);
    } catch (ZtocException e) {
      throw new ZtocException("reading span 0 of layer " + what + ": " + e.getMessage(), e);
    }
  }

  private void copySpans(VerifiedSpans spans, int firstSpan, int lastSpan, RangeSink sink)
      throws IOException {
    for (int id = firstSpan; id <= lastSpan; id++) {
      Span span = ztoc.span(id);
      byte[] bytes = spans.next(span);
      sink.accept(span.uncompressedStart(), bytes, bytes.length);
    }
  }

  /** Writes the part of the inflated stream that falls into the wanted range. */
  private static final class RangeSink implements CheckpointInflater.Sink {
    private final long start;
    private final long end;
    private final OutputStream out;
    long written;

    RangeSink(long start, long end, OutputStream out) {
      this.start = start;
      this.end = end;
      this.out = out;
    }

    @Override
    public boolean accept(long uncompressedOffset, byte[] bytes, int length) throws IOException {
      long from = Math.max(start, uncompressedOffset);
      long to = Math.min(end, uncompressedOffset + length);
      if (to > from) {
        out.write(bytes, (int) (from - uncompressedOffset), (int) (to - from));
        written += to - from;
      }
      return uncompressedOffset + length < end;
    }
  }

  /**
   * Reads consecutive spans from one range stream. Neighbouring gzip spans share a byte when the
   * second starts with pending bits; that byte is read once and reused.
   */
  private final class VerifiedSpans {
    private final InputStream in;
    private long compressedPosition;
    private byte[] previous = new byte[0];
    private int overlap;

    VerifiedSpans(InputStream in, long compressedStart) {
      this.in = in;
      this.compressedPosition = compressedStart;
    }

    /** How many leading bytes of the last span were already in the span before it. */
    int overlap() {
      return overlap;
    }

    byte[] next(Span span) throws IOException {
      byte[] bytes = new byte[Math.toIntExact(span.compressedLength())];
      overlap = (int) (compressedPosition - span.compressedStart());
      System.arraycopy(previous, previous.length - overlap, bytes, 0, overlap);
      int n = in.readNBytes(bytes, overlap, bytes.length - overlap);
      if (n != bytes.length - overlap) {
        throw new ZtocException(
            "layer "
                + what
                + " ended early: span "
                + span.id()
                + " needs compressed bytes ["
                + span.compressedStart()
                + ", "
                + span.compressedEnd()
                + ") but the source gave "
                + (overlap + n));
      }
      verify(span, bytes);
      compressedPosition = span.compressedEnd();
      previous = bytes;
      return bytes;
    }

    private void verify(Span span, byte[] bytes) throws SpanDigestMismatchException {
      MessageDigest sha256 = Digest.newSha256();
      Digest actual = Digest.fromSha256(sha256.digest(bytes));
      if (!actual.equals(span.digest())) {
        throw new SpanDigestMismatchException(
            "span "
                + span.id()
                + " of layer "
                + what
                + " (compressed bytes ["
                + span.compressedStart()
                + ", "
                + span.compressedEnd()
                + ")) has digest "
                + actual
                + " but the zTOC says "
                + span.digest()
                + "; the layer or the zTOC is corrupt, fetch the layer again");
      }
    }
  }
}
