package dev.lazypull.fs.layer;

import dev.lazypull.fs.cache.SpanCache;
import dev.lazypull.fs.cache.SpanKey;
import dev.lazypull.oci.Digest;
import dev.lazypull.ztoc.Span;
import dev.lazypull.ztoc.SpanDigestMismatchException;
import dev.lazypull.ztoc.SpanExtractor;
import dev.lazypull.ztoc.Ztoc;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A layer read through its zTOC. A read finds the spans it touches; spans in the cache are read
 * from disk, the others are fetched with one ranged GET per run of neighbouring missing spans. Each
 * span's compressed bytes are checked against the zTOC's sha256 before they are inflated from the
 * span's checkpoint; nothing unchecked reaches a reader or the cache. Readers of a span that is
 * being fetched wait for that one fetch.
 *
 * <p>Span states: absent → fetching (one future in {@code inFlight}) → cached, or back to absent
 * when the fetch fails, so that a later read tries again once the fault has cleared.
 */
public final class IndexedLayer implements LayerReader {
  private static final Logger log = LoggerFactory.getLogger(IndexedLayer.class);

  /** At most this many spans go into one ranged GET. */
  private static final int MAX_SPANS_PER_REQUEST = 8;

  private final Digest layerDigest;
  private final Ztoc ztoc;
  private final CompressedBytes source;
  private final SpanCache cache;
  private final FetchCounters counters;
  private final Duration readTimeout;
  private final Map<Integer, CompletableFuture<ByteBuffer>> inFlight = new ConcurrentHashMap<>();
  private final LayerHealth health;
  private final Map<Integer, Long> recentFailures = new ConcurrentHashMap<>();
  private static final long FAILURE_MEMORY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
  private final @Nullable Digest diffId;
  private volatile boolean cacheWriteWarned;

  public IndexedLayer(
      Digest layerDigest,
      Ztoc ztoc,
      CompressedBytes source,
      SpanCache cache,
      FetchCounters counters,
      Duration readTimeout) {
    this(layerDigest, null, ztoc, source, cache, counters, readTimeout);
  }

  /**
   * A layer whose uncompressed digest (the image config's diff id) is known: the background fetch
   * then also checks the bytes the zTOC's checkpoints inflate to, which no span digest covers.
   */
  public IndexedLayer(
      Digest layerDigest,
      @Nullable Digest diffId,
      Ztoc ztoc,
      CompressedBytes source,
      SpanCache cache,
      FetchCounters counters,
      Duration readTimeout) {
    this.diffId = diffId;
    this.layerDigest = layerDigest;
    this.ztoc = ztoc;
    this.source = source;
    this.cache = cache;
    this.counters = counters;
    this.readTimeout = readTimeout;
    this.health = new LayerHealth(layerDigest.toString());
  }

  public Ztoc ztoc() {
    return ztoc;
  }

  @Override
  public long uncompressedSize() {
    return ztoc.uncompressedArchiveSize();
  }

  @Override
  public String describe() {
    return layerDigest.toString();
  }

  @Override
  public void markBad(String reason) {
    health.markBad(reason);
  }

  /** Whether every span holding uncompressed bytes {@code [offset, offset + length)} is cached. */
  public boolean cached(long uncompressedOffset, long length) {
    if (length <= 0) {
      return false;
    }
    int last = ztoc.spanOf(uncompressedOffset + length - 1);
    for (int id = ztoc.spanOf(uncompressedOffset); id <= last; id++) {
      if (!cache.contains(new SpanKey(layerDigest.hex(), id))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether the span cache is far enough under its limit to take a copy of this many bytes without
   * evicting anything: the copies made by {@link #materialize} count in the cache's size.
   */
  public boolean cacheHasRoomFor(long bytes) {
    return cache.sizeBytes() + bytes <= cache.maxBytes();
  }

  /**
   * A local file holding exactly the uncompressed bytes {@code [offset, offset + length)}, made
   * once from the span cache under {@code dir} and reused: the kernel can read it directly (FUSE
   * passthrough) instead of asking lazypull for every page.
   */
  public java.nio.file.Path materialize(
      long uncompressedOffset, long length, java.nio.file.Path dir) throws IOException {
    cache.clearCopiesOfEarlierRuns(dir);
    java.nio.file.Path target =
        dir.resolve(layerDigest.hex()).resolve(Long.toString(uncompressedOffset));
    if (cache.hasCopy(target)) {
      return target; // made by this process, from verified spans
    }
    java.nio.file.Files.createDirectories(target.getParent());
    java.nio.file.Path temp = SpanCache.tempFor(target); // unique among mounts sharing the dir
    try (var out =
        java.nio.channels.FileChannel.open(
            temp,
            java.nio.file.StandardOpenOption.CREATE,
            java.nio.file.StandardOpenOption.WRITE,
            java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
      long done = 0;
      while (done < length) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), length - done));
        int n = read(uncompressedOffset + done, buffer);
        if (n <= 0) {
          throw new IOException("layer " + layerDigest + " ended early at " + done);
        }
        buffer.flip();
        while (buffer.hasRemaining()) {
          out.write(buffer);
        }
        done += n;
      }
    } catch (IOException e) {
      java.nio.file.Files.deleteIfExists(temp);
      throw e;
    }
    java.nio.file.Files.move(
        temp,
        target,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    cache.addCopy(target);
    return target;
  }

  @Override
  public int read(long uncompressedOffset, ByteBuffer into) throws IOException {
    health.check();
    long end = Math.min(uncompressedSize(), uncompressedOffset + into.remaining());
    if (end <= uncompressedOffset) {
      return 0;
    }
    OnDemandActivity.readStarted();
    try {
      int first = ztoc.spanOf(uncompressedOffset);
      int last = ztoc.spanOf(end - 1);
      Map<Integer, ByteBuffer> fetched = ensure(first, last, true);
      int total = 0;
      for (int id = first; id <= last; id++) {
        total += copySpan(id, uncompressedOffset + total, end, into, fetched.get(id));
      }
      return total;
    } finally {
      OnDemandActivity.readEnded();
    }
  }

  /** Copies the part of span {@code id} from {@code from} up to {@code end} into {@code into}. */
  private int copySpan(
      int id, long from, long end, ByteBuffer into, @Nullable ByteBuffer fetchedSpan)
      throws IOException {
    Span span = ztoc.span(id);
    long offsetInSpan = from - span.uncompressedStart();
    int length = (int) (Math.min(end, span.uncompressedEnd()) - from);
    ByteBuffer target = into.slice(into.position(), length);
    if (fetchedSpan != null) {
      target.put(fetchedSpan.slice((int) offsetInSpan, length));
    } else {
      int n = cache.read(new SpanKey(layerDigest.hex(), id), offsetInSpan, target);
      if (n != length) {
        // Evicted between ensure() and now (a cache smaller than one read): fetch it again.
        ByteBuffer again = ensure(id, id, true).get(id);
        if (again == null) {
          throw new IOException("span " + id + " of layer " + layerDigest + " vanished");
        }
        target.clear();
        target.put(again.slice((int) offsetInSpan, length));
      }
    }
    into.position(into.position() + length);
    return length;
  }

  /**
   * Makes spans {@code first..last} available. Returns the decompressed bytes of the spans this
   * call fetched or waited for, so a read never depends on the cache keeping them.
   */
  Map<Integer, ByteBuffer> ensure(int first, int last, boolean onDemand) throws IOException {
    failIfJustFailed(first, last);
    Map<Integer, CompletableFuture<ByteBuffer>> waits = new HashMap<>();
    List<Integer> mine = new ArrayList<>();
    for (int id = first; id <= last; id++) {
      if (cache.contains(new SpanKey(layerDigest.hex(), id))) {
        continue;
      }
      var future = new CompletableFuture<ByteBuffer>();
      var existing = inFlight.putIfAbsent(id, future);
      waits.put(id, existing != null ? existing : future);
      if (existing == null) {
        mine.add(id);
      }
    }
    // One deadline for all the spans of a read, fetched here or by other readers: waited for one
    // by one, each with the whole timeout, a read over several spans could wait several times it.
    long deadline = System.nanoTime() + readTimeout.toNanos();
    if (onDemand && !waits.isEmpty()) {
      OnDemandActivity.fetched();
    }
    fetchRuns(mine, onDemand);
    Map<Integer, ByteBuffer> result = new HashMap<>();
    for (var wait : waits.entrySet()) {
      try {
        result.put(wait.getKey(), await(wait.getKey(), wait.getValue(), deadline));
      } catch (IOException e) {
        recentFailures.put(wait.getKey(), System.nanoTime());
        throw e;
      }
    }
    return result;
  }

  /**
   * When a readahead request fails, the kernel asks again at once for the page the reader wants:
   * without this, one read() of a span the registry cannot deliver waits twice the read timeout. A
   * span that failed moments ago fails again at once; later reads ask the registry again.
   */
  private void failIfJustFailed(int first, int last) throws IOException {
    if (recentFailures.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    for (int id = first; id <= last; id++) {
      Long failedAt = recentFailures.get(id);
      if (failedAt == null) {
        continue;
      }
      if (now - failedAt < FAILURE_MEMORY_NANOS) {
        throw new IOException(
            "span " + id + " of layer " + layerDigest + " failed a moment ago; try the read again");
      }
      recentFailures.remove(id, failedAt);
    }
  }

  private ByteBuffer await(int id, CompletableFuture<ByteBuffer> future, long deadline)
      throws IOException {
    try {
      return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(
          "fetching span " + id + " of layer " + layerDigest + " failed: " + e.getCause(), e);
    } catch (TimeoutException e) {
      throw new IOException(
          "span "
              + id
              + " of layer "
              + layerDigest
              + " did not arrive within "
              + readTimeout.toSeconds()
              + " s; the registry may be slow or down",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for span " + id);
    }
  }

  /** Fetches the spans this caller owns, as runs of neighbours, one request per run. */
  private void fetchRuns(List<Integer> ids, boolean onDemand) {
    int i = 0;
    while (i < ids.size()) {
      int runStart = i;
      while (i + 1 < ids.size()
          && ids.get(i + 1) == ids.get(i) + 1
          && i + 1 - runStart < MAX_SPANS_PER_REQUEST) {
        i++;
      }
      fetchRun(ids.get(runStart), ids.get(i), onDemand);
      i++;
    }
  }

  private void fetchRun(int first, int last, boolean onDemand) {
    try {
      long compressedStart = ztoc.span(first).compressedStart();
      long compressedEnd = ztoc.span(last).compressedEnd();
      byte[] compressed = fetch(compressedStart, compressedEnd);
      // One line per ranged GET: with the trace of reads (ImageFilesystem), says which files
      // made a cold start fetch which spans (docs/lazy-mount.md).
      log.debug(
          "layer {}: fetched spans {}-{}, {} bytes, {}",
          layerDigest,
          first,
          last,
          compressed.length,
          onDemand ? "on demand" : "background");
      for (int id = first; id <= last; id++) {
        completeSpan(id, compressed, compressedStart, onDemand);
      }
    } catch (IOException | RuntimeException e) {
      for (int id = first; id <= last; id++) {
        var future = inFlight.remove(id);
        if (future != null) {
          future.completeExceptionally(e);
        }
      }
    }
  }

  private byte[] fetch(long compressedStart, long compressedEnd) throws IOException {
    byte[] bytes = source.fetch(compressedStart, (int) (compressedEnd - compressedStart));
    counters.requests.incrementAndGet();
    counters.compressedBytes.addAndGet(bytes.length);
    return bytes;
  }

  /** Verifies and inflates one span of a fetched run; a digest mismatch is fetched once more. */
  private void completeSpan(int id, byte[] run, long runStart, boolean onDemand) {
    var future = inFlight.get(id);
    if (future == null) {
      return;
    }
    try {
      ByteBuffer data;
      try {
        data = inflate(id, run, runStart);
      } catch (SpanDigestMismatchException first) {
        counters.digestMismatches.incrementAndGet();
        log.warn("layer {} span {}: {}; fetching it again", layerDigest, id, first.getMessage());
        Span span = ztoc.span(id);
        byte[] again = fetch(span.compressedStart(), span.compressedEnd());
        data = inflate(id, again, span.compressedStart());
      }
      store(id, data);
      (onDemand ? counters.onDemandSpans : counters.backgroundSpans).incrementAndGet();
      inFlight.remove(id);
      future.complete(data);
    } catch (SpanDigestMismatchException e) {
      counters.digestMismatches.incrementAndGet();
      log.error("layer {} span {}: {}; the read fails with EIO", layerDigest, id, e.getMessage());
      inFlight.remove(id);
      future.completeExceptionally(e);
    } catch (IOException | RuntimeException e) {
      inFlight.remove(id);
      future.completeExceptionally(e);
    }
  }

  /** Checks the span's digest and inflates it from its checkpoint. */
  private ByteBuffer inflate(int id, byte[] run, long runStart) throws IOException {
    var extractor =
        new SpanExtractor(
            ztoc,
            (offset, length) ->
                new ByteArrayInputStream(run, (int) (offset - runStart), (int) length),
            layerDigest.toString());
    return ByteBuffer.wrap(extractor.decompressSpan(id)).asReadOnlyBuffer();
  }

  private void store(int id, ByteBuffer data) {
    try {
      cache.put(new SpanKey(layerDigest.hex(), id), data);
    } catch (java.nio.channels.ClosedByInterruptException e) {
      // The background fetcher was stopped in the middle of a write: the temporary file is
      // gone and nothing is cached, which is all there is to it.
    } catch (IOException e) {
      counters.cacheWriteFailures.incrementAndGet();
      if (!cacheWriteWarned) {
        cacheWriteWarned = true;
        log.warn(
            "cannot write to the span cache ({}); serving layer {} uncached",
            e.getMessage(),
            layerDigest);
      }
    }
  }

  /**
   * Fetches {@code [fetchStart, span end)} and checks the span's bytes against its zTOC digest,
   * fetching once more on a mismatch. Bytes that keep failing stop the background fetch with an
   * IOException and leave the layer healthy: a proxy or network that corrupted them may recover,
   * and reads verify each span themselves. Were they hashed into the whole-layer digest instead, a
   * passing fault would mark the layer bad for good.
   */
  private byte[] fetchVerified(Span span, long fetchStart) throws IOException {
    for (int attempt = 1; ; attempt++) {
      byte[] compressed = fetch(fetchStart, span.compressedEnd());
      var sha256 = Digest.newSha256();
      int skip = (int) (span.compressedStart() - fetchStart);
      sha256.update(compressed, skip, compressed.length - skip);
      if (Digest.fromSha256(sha256.digest()).equals(span.digest())) {
        return compressed;
      }
      counters.digestMismatches.incrementAndGet();
      if (attempt == 2) {
        throw new IOException(
            "span "
                + span.id()
                + " of layer "
                + layerDigest
                + " did not match its zTOC digest twice in the background fetch; it stops,"
                + " and reads fetch and check the span again on demand");
      }
      log.warn(
          "layer {} span {} did not match its digest in the background fetch; fetching it again",
          layerDigest,
          span.id());
    }
  }

  /**
   * Fetches the whole compressed layer in span order for the background fetcher, caching the spans
   * that are missing and checking the layer's digest at the end. Before each span it asks the pacer
   * for its turn (no on-demand read in progress, see {@link BackgroundPacer}), so it yields within
   * one span's time.
   *
   * @return true if the layer is now complete and its digest matched
   */
  public boolean fetchAllInBackground(BackgroundPacer pacer)
      throws IOException, InterruptedException {
    MessageDigest layerHash = Digest.newSha256();
    MessageDigest diffHash = diffId == null ? null : Digest.newSha256();
    long hashed = 0;
    for (int id = 0; id < ztoc.spanCount(); id++) {
      health.check();
      pacer.awaitTurn();
      Span span = ztoc.span(id);
      // Fetch from the first byte not hashed yet: span 0 starts after the gzip header, and
      // neighbouring spans share a byte when bits are pending; each byte is hashed once.
      long fetchStart = Math.min(span.compressedStart(), hashed);
      byte[] compressed = fetchVerified(span, fetchStart);
      pacer.fetched(compressed.length);
      layerHash.update(
          compressed, (int) (hashed - fetchStart), (int) (span.compressedEnd() - hashed));
      hashed = span.compressedEnd();
      // A span an earlier run cached is checked here, so that a damaged one is replaced while
      // the registry is still there rather than found at a read after it is gone.
      ByteBuffer inflated = null;
      if (!cache.containsChecked(new SpanKey(layerDigest.hex(), id)) && !inFlight.containsKey(id)) {
        var future = new CompletableFuture<ByteBuffer>();
        if (inFlight.putIfAbsent(id, future) == null) {
          completeSpan(id, compressed, fetchStart, false);
          inflated = future.getNow(null);
        }
      }
      if (diffHash != null) {
        ByteBuffer data = inflated != null ? inflated : inflate(id, compressed, fetchStart);
        diffHash.update(data.duplicate());
      }
    }
    Digest actual = Digest.fromSha256(layerHash.digest());
    // Every span matched its zTOC digest, so a mismatch here is the zTOC's, not the network's.
    if (hashed != ztoc.compressedArchiveSize() || !actual.equals(layerDigest)) {
      markBad("the whole layer's digest is " + actual + ", expected " + layerDigest);
      return false;
    }
    if (diffHash != null) {
      Digest inflatedDigest = Digest.fromSha256(diffHash.digest());
      // The compressed bytes are right, so wrong inflated bytes mean the zTOC's checkpoints lie
      // (a window is not checked by any span digest): reads served so far may have been wrong,
      // and from now on they fail.
      if (!inflatedDigest.equals(diffId)) {
        markBad(
            "its spans inflate to "
                + inflatedDigest
                + ", not the image config's diff id "
                + diffId
                + ": the zTOC's checkpoints do not fit the layer");
        return false;
      }
    }
    return true;
  }
}
