package dev.lazypull.fs.layer;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import dev.lazypull.estargz.ChunkDecoder;
import dev.lazypull.estargz.ChunkDigestMismatchException;
import dev.lazypull.estargz.EstargzIndex;
import dev.lazypull.estargz.EstargzReader;
import dev.lazypull.estargz.FileChunk;
import dev.lazypull.estargz.TocEntry;
import dev.lazypull.fs.cache.SpanCache;
import dev.lazypull.fs.cache.SpanKey;
import dev.lazypull.oci.Digest;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An eStargz layer read chunk by chunk through its verified TOC. Its data is not one range of an
 * uncompressed tar, so the layer offers a stream of its own to {@link LayerReader} callers: every
 * regular file's bytes laid end to end in TOC order, the landmarks left out ({@link
 * #dataOffset(String)} says where a file starts). A read finds the chunks it touches; each missing
 * chunk is one ranged GET of its gzip member(s), checked against its {@code chunkDigest} before it
 * is served or cached.
 *
 * <p>Chunk states, as for spans: absent → fetching (one future in {@code inFlight}) → cached, or
 * back to absent when the fetch fails.
 */
public final class EstargzLayer implements LayerReader {
  private static final Logger log = LoggerFactory.getLogger(EstargzLayer.class);

  /** The start-up set is fetched in one request only up to this size; larger sets are skipped. */
  private static final long MAX_PREFETCH_BYTES = 256L << 20;

  /** The background fetcher asks for at most this many compressed bytes at once (or one chunk). */
  private static final long BACKGROUND_RUN_BYTES = 1L << 20;

  private final Digest layerDigest;
  private final EstargzReader reader;
  private final CompressedBytes source;
  private final SpanCache cache;
  private final FetchCounters counters;
  private final Duration readTimeout;
  private final String cacheKeyHex;
  private final List<FileChunk> chunks = new ArrayList<>();
  private final TreeMap<Long, Integer> chunkByDataOffset = new TreeMap<>();
  private final Map<String, Long> fileDataOffsets = new HashMap<>();
  private final long dataSize;
  private final Map<Integer, CompletableFuture<ByteBuffer>> inFlight = new ConcurrentHashMap<>();
  private final LayerHealth health;
  private volatile boolean cacheWriteWarned;

  /**
   * For a TOC opened unverified: the digests the whole-blob check learned for chunks the TOC gives
   * none (legacy stargz), so that a chunk fetched again later is checked too. Null entries: none
   * learned (yet).
   */
  private final AtomicReferenceArray<@Nullable Digest> learnedDigests;

  /** Whether the TOC can be trusted: checked at open, or later by the whole-blob check. */
  private volatile boolean tocTrusted;

  public EstargzLayer(
      Digest layerDigest,
      EstargzReader reader,
      CompressedBytes source,
      SpanCache cache,
      FetchCounters counters,
      Duration readTimeout) {
    this.layerDigest = layerDigest;
    this.health = new LayerHealth(layerDigest.toString());
    this.reader = reader;
    this.source = source;
    this.cache = cache;
    this.counters = counters;
    this.readTimeout = readTimeout;
    // Chunks are cached under a key of their own so that they never meet a zTOC's spans of the
    // same layer, which are numbered differently. Chunks read through an unverified TOC get a key
    // of that TOC: a later mount that verifies the layer's TOC must not trust what they hold.
    String keyName =
        reader.tocVerified()
            ? "estargz-chunks:" + layerDigest
            : "estargz-unverified-chunks:" + layerDigest + ":" + reader.tocDigest();
    this.cacheKeyHex = Digest.sha256(keyName.getBytes(StandardCharsets.UTF_8)).hex();
    long dataOffset = 0;
    EstargzIndex index = reader.index();
    for (TocEntry entry : index.entries().values()) {
      List<FileChunk> fileChunks = index.chunks(entry.cleanName());
      if (fileChunks.isEmpty() || EstargzIndex.isFormatEntry(entry.cleanName())) {
        continue;
      }
      fileDataOffsets.put(entry.cleanName(), dataOffset);
      for (FileChunk chunk : fileChunks) {
        chunkByDataOffset.put(dataOffset + chunk.fileOffset(), chunks.size());
        chunks.add(chunk);
      }
      dataOffset += entry.size();
    }
    this.dataSize = dataOffset;
    this.learnedDigests = new AtomicReferenceArray<>(chunks.size());
    this.tocTrusted = reader.tocVerified();
  }

  /** Whether the layer ends with the 47-byte footer of legacy stargz. */
  public boolean legacyFooter() {
    return reader.legacyFooter();
  }

  /** How many chunks the TOC gives no digest for (legacy stargz, opened unverified only). */
  public int undigestedChunks() {
    return (int) chunks.stream().filter(chunk -> chunk.digest() == null).count();
  }

  /**
   * Whether the TOC is known to be the layer's own: checked against the manifest's annotation at
   * open, or, for a layer opened with insecure-skip-verify, by the background fetch's whole-blob
   * check since.
   */
  public boolean tocTrusted() {
    return tocTrusted;
  }

  public EstargzIndex index() {
    return reader.index();
  }

  /** Where a regular file's bytes start in this layer's data stream; 0 for an empty file. */
  public long dataOffset(String cleanName) {
    return fileDataOffsets.getOrDefault(cleanName, 0L);
  }

  @Override
  public long uncompressedSize() {
    return dataSize;
  }

  @Override
  public String describe() {
    return layerDigest.toString();
  }

  @Override
  public boolean dataFollowsTarHeader() {
    // Offsets are into the files' own bytes, and every chunk is checked against the verified
    // TOC: there is no tar header to look at, and no need for it.
    return false;
  }

  @Override
  public void markBad(String reason) {
    health.markBad(reason);
  }

  @Override
  public int read(long dataOffset, ByteBuffer into) throws IOException {
    health.check();
    OnDemandActivity.readStarted();
    try {
      return readChunks(dataOffset, into);
    } finally {
      OnDemandActivity.readEnded();
    }
  }

  private int readChunks(long dataOffset, ByteBuffer into) throws IOException {
    long end = Math.min(dataSize, dataOffset + into.remaining());
    long position = dataOffset;
    while (position < end) {
      var found = chunkByDataOffset.floorEntry(position);
      if (found == null) {
        throw new IOException("layer " + layerDigest + " has no chunk at data offset " + position);
      }
      FileChunk chunk = chunks.get(found.getValue());
      long offsetInChunk = position - found.getKey();
      int length = (int) (Math.min(end, found.getKey() + chunk.size()) - position);
      copyChunk(found.getValue(), offsetInChunk, into.slice(into.position(), length));
      into.position(into.position() + length);
      position += length;
    }
    return (int) (position - dataOffset);
  }

  private void copyChunk(int id, long offsetInChunk, ByteBuffer target) throws IOException {
    int length = target.remaining();
    if (cache.read(key(id), offsetInChunk, target) == length) {
      return;
    }
    target.clear();
    ByteBuffer data = ensure(id);
    target.put(data.slice((int) offsetInChunk, length));
  }

  /** The chunk's verified bytes: fetched by this caller or by the one already fetching it. */
  private ByteBuffer ensure(int id) throws IOException {
    var future = new CompletableFuture<ByteBuffer>();
    var existing = inFlight.putIfAbsent(id, future);
    if (existing != null) {
      return await(id, existing);
    }
    try {
      ByteBuffer data = fetchChunk(id);
      future.complete(data);
      return data;
    } catch (IOException | RuntimeException e) {
      future.completeExceptionally(e);
      throw e;
    } finally {
      inFlight.remove(id);
    }
  }

  private ByteBuffer fetchChunk(int id) throws IOException {
    OnDemandActivity.fetched();
    FileChunk chunk = chunks.get(id);
    ByteBuffer data;
    try {
      data = decode(id, fetch(chunk.compressedOffset(), chunk.compressedEnd()), 0);
    } catch (ChunkDigestMismatchException first) {
      counters.digestMismatches.incrementAndGet();
      log.warn("{}; fetching it again", first.getMessage());
      try {
        data = decode(id, fetch(chunk.compressedOffset(), chunk.compressedEnd()), 0);
      } catch (ChunkDigestMismatchException again) {
        counters.digestMismatches.incrementAndGet();
        log.error("{}; the read fails with EIO", again.getMessage());
        throw again;
      }
    }
    store(id, data);
    counters.onDemandSpans.incrementAndGet();
    return data;
  }

  private ByteBuffer decode(int id, byte[] compressed, int from) throws IOException {
    FileChunk chunk = chunks.get(id);
    return ByteBuffer.wrap(
            ChunkDecoder.decode(
                checkedBy(id), compressed, from, (int) chunk.compressedLength(), describe()))
        .asReadOnlyBuffer();
  }

  /** The chunk with the digest its bytes must match: the TOC's, else one the blob check learned. */
  private FileChunk checkedBy(int id) {
    FileChunk chunk = chunks.get(id);
    if (chunk.digest() != null) {
      return chunk;
    }
    Digest learned = learnedDigests.get(id);
    return learned == null ? chunk : chunk.withDigest(learned);
  }

  /**
   * Fetches the start-up files (every chunk before {@code .prefetch.landmark}) in one ranged GET
   * and caches them, verified. Returns the number of chunks prefetched; 0 when the layer has no
   * prefetch landmark.
   */
  public int prefetchStartupFiles() throws IOException {
    long prefetchEnd = reader.index().prefetchEnd();
    List<Integer> ids = new ArrayList<>();
    long start = Long.MAX_VALUE;
    for (int id = 0; id < chunks.size(); id++) {
      FileChunk chunk = chunks.get(id);
      if (chunk.compressedEnd() <= prefetchEnd && !cache.contains(key(id))) {
        ids.add(id);
        start = Math.min(start, chunk.compressedOffset());
      }
    }
    if (ids.isEmpty()) {
      return 0;
    }
    if (prefetchEnd - start > MAX_PREFETCH_BYTES) {
      log.warn(
          "layer {}: the start-up set is {} bytes, more than {}; not prefetched",
          layerDigest,
          prefetchEnd - start,
          MAX_PREFETCH_BYTES);
      return 0;
    }
    byte[] compressed = fetch(start, prefetchEnd);
    for (int id : ids) {
      FileChunk chunk = chunks.get(id);
      store(id, decode(id, compressed, (int) (chunk.compressedOffset() - start)));
      counters.backgroundSpans.incrementAndGet();
    }
    log.info("layer {}: prefetched {} start-up chunks", layerDigest, ids.size());
    return ids.size();
  }

  private byte[] fetch(long compressedStart, long compressedEnd) throws IOException {
    byte[] bytes = source.fetch(compressedStart, (int) (compressedEnd - compressedStart));
    counters.requests.incrementAndGet();
    counters.compressedBytes.addAndGet(bytes.length);
    return bytes;
  }

  private ByteBuffer await(int id, CompletableFuture<ByteBuffer> future) throws IOException {
    try {
      return future.get(readTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(chunks.get(id).describe() + " of layer " + layerDigest + " failed", e);
    } catch (TimeoutException e) {
      throw new IOException(
          chunks.get(id).describe()
              + " of layer "
              + layerDigest
              + " did not arrive within "
              + readTimeout.toSeconds()
              + " s; the registry may be slow or down",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a chunk of " + layerDigest);
    }
  }

  /**
   * Fetches every chunk not yet cached, for the background fetcher: runs of neighbouring chunks (in
   * blob order) of up to {@link #BACKGROUND_RUN_BYTES} compressed bytes per ranged GET, each chunk
   * checked against its {@code chunkDigest} before it is cached. Before each run it asks the pacer
   * for its turn (see {@link BackgroundPacer}), so it yields within one run's time.
   *
   * <p>Unlike a zTOC layer, the whole layer's digest is not checked: every byte served comes from a
   * chunk checked against the TOC, and the TOC against the manifest's annotation, so hashing the
   * layer would add no check but would fetch the cached start-up set a second time. A TOC opened
   * unverified (insecure-skip-verify) is the exception: then the whole blob is fetched and its
   * digest checked first (see {@link UnverifiedTocCheck}), which also caches the missing chunks.
   *
   * @return true if every chunk is now cached; false if a chunk failed its digest (it is left for
   *     an on-demand read to fetch again, and the failure is logged and counted)
   */
  public boolean fetchAllInBackground(BackgroundPacer pacer)
      throws IOException, InterruptedException {
    if (!tocTrusted) {
      return UnverifiedTocCheck.run(this, pacer);
    }
    List<Integer> missing = new ArrayList<>();
    for (int id = 0; id < chunks.size(); id++) {
      if (!cache.contains(key(id))) {
        missing.add(id);
      }
    }
    missing.sort(java.util.Comparator.comparingLong(id -> chunks.get(id).compressedOffset()));
    boolean complete = true;
    int next = 0;
    while (next < missing.size()) {
      health.check();
      pacer.awaitTurn();
      int first = next;
      long runStart = chunks.get(missing.get(first)).compressedOffset();
      long runEnd = chunks.get(missing.get(first)).compressedEnd();
      next++;
      while (next < missing.size()) {
        FileChunk chunk = chunks.get(missing.get(next));
        boolean sameMember = chunk.compressedEnd() <= runEnd;
        boolean neighbour = chunk.compressedOffset() == runEnd;
        if (!sameMember
            && !(neighbour && chunk.compressedEnd() - runStart <= BACKGROUND_RUN_BYTES)) {
          break;
        }
        runEnd = Math.max(runEnd, chunk.compressedEnd());
        next++;
      }
      byte[] compressed = fetch(runStart, runEnd);
      pacer.fetched(compressed.length);
      for (int i = first; i < next; i++) {
        complete &= completeInBackground(missing.get(i), compressed, runStart);
      }
    }
    return complete;
  }

  /** Verifies and caches one chunk of a background run, unless a reader has it already. */
  private boolean completeInBackground(int id, byte[] run, long runStart) {
    if (cache.contains(key(id))) {
      return true;
    }
    var future = new CompletableFuture<ByteBuffer>();
    if (inFlight.putIfAbsent(id, future) != null) {
      return true; // an on-demand read is fetching it
    }
    FileChunk chunk = chunks.get(id);
    try {
      ByteBuffer data = decode(id, run, (int) (chunk.compressedOffset() - runStart));
      store(id, data);
      counters.backgroundSpans.incrementAndGet();
      future.complete(data);
      return true;
    } catch (ChunkDigestMismatchException e) {
      counters.digestMismatches.incrementAndGet();
      log.warn("background fetch: {}; left for a read to fetch again", e.getMessage());
      future.completeExceptionally(e);
      return false;
    } catch (IOException | RuntimeException e) {
      log.warn("background fetch of layer {}: {}", layerDigest, e.getMessage());
      future.completeExceptionally(e);
      return false;
    } finally {
      inFlight.remove(id);
    }
  }

  // The whole-blob check of an unverified TOC (UnverifiedTocCheck) works through these.

  EstargzReader reader() {
    return reader;
  }

  List<FileChunk> chunkList() {
    return java.util.Collections.unmodifiableList(chunks);
  }

  /** Before each background run: fails if the layer is bad, then waits for the pacer's turn. */
  void awaitBackgroundTurn(BackgroundPacer pacer) throws IOException, InterruptedException {
    health.check();
    pacer.awaitTurn();
  }

  /** One counted ranged GET of the blob for the background fetch, reported to the pacer. */
  byte[] fetchRange(long compressedStart, long compressedEnd, BackgroundPacer pacer)
      throws IOException, InterruptedException {
    byte[] bytes = fetch(compressedStart, compressedEnd);
    pacer.fetched(bytes.length);
    return bytes;
  }

  /**
   * Makes chunk {@code id}'s cache entry hold {@code data}, the layer's own bytes of the chunk
   * (from a blob whose digest is being checked), unless it is cached or being read already: then
   * compares those bytes, which may have been served. Returns why they differ, or null.
   */
  @Nullable String settleFromBlob(int id, byte[] data) throws InterruptedException {
    ByteBuffer own = ByteBuffer.wrap(data).asReadOnlyBuffer();
    var future = new CompletableFuture<ByteBuffer>();
    CompletableFuture<ByteBuffer> reading = inFlight.putIfAbsent(id, future);
    if (reading != null) {
      try {
        return differs(id, "a read served", reading.get(readTimeout.toMillis(), MILLISECONDS), own);
      } catch (ExecutionException | TimeoutException e) {
        return null; // that read failed: it served nothing
      }
    }
    try {
      ByteBuffer cached = ByteBuffer.allocate(data.length + 1);
      if (cache.read(key(id), 0, cached) >= 0) {
        return differs(id, "the cache holds", cached.flip(), own);
      }
      store(id, own);
      counters.backgroundSpans.incrementAndGet();
      return null;
    } catch (IOException e) {
      log.debug("layer {}: cannot read cached {}: {}", layerDigest, id, e.getMessage());
      return null; // the cache read failed, so a read would fetch the chunk again
    } finally {
      future.complete(own);
      inFlight.remove(id);
    }
  }

  private @Nullable String differs(int id, String what, ByteBuffer seen, ByteBuffer own) {
    if (seen.equals(own)) {
      return null;
    }
    return chunks.get(id).describe()
        + ": "
        + what
        + " bytes hashing to "
        + Digest.sha256(bytesOf(seen))
        + ", but the layer's own bytes hash to "
        + Digest.sha256(bytesOf(own));
  }

  private static byte[] bytesOf(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }

  /**
   * The whole-blob check passed: the TOC is the layer's own. {@code digests} are the chunks' hashes
   * from the layer's bytes; they check later fetches of chunks whose TOC entry has no digest.
   */
  void trustToc(@Nullable Digest[] digests) {
    for (int id = 0; id < digests.length; id++) {
      if (chunks.get(id).digest() == null && digests[id] != null) {
        learnedDigests.set(id, digests[id]);
      }
    }
    tocTrusted = true;
  }

  private void store(int id, ByteBuffer data) {
    try {
      cache.put(key(id), data);
    } catch (java.nio.channels.ClosedByInterruptException e) {
      // The background fetcher was stopped in the middle of a write: nothing is cached.
    } catch (IOException e) {
      counters.cacheWriteFailures.incrementAndGet();
      if (!cacheWriteWarned) {
        cacheWriteWarned = true;
        log.warn(
            "cannot write to the chunk cache ({}); serving layer {} uncached",
            e.getMessage(),
            layerDigest);
      }
    }
  }

  private SpanKey key(int id) {
    return new SpanKey(cacheKeyHex, id);
  }
}
