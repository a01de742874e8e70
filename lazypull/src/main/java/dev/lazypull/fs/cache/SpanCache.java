package dev.lazypull.fs.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decompressed spans on disk, one file per span, under a size limit. When a put goes over the limit
 * the least recently used spans are deleted; a reader that still has one open keeps reading it,
 * since Linux frees an unlinked file only at its last close.
 *
 * <p>Layout: {@code <dir>/<layer hex>/<span id>}. Shared by every mount that uses the same
 * directory, so two mounts of one image (or two images sharing a layer) share their spans.
 *
 * <p>Crash safety: a span is written to a temporary file named after the writing process and thread
 * and renamed into place when complete, so a killed process leaves at most a temporary file, which
 * the next open deletes once its writer is gone. Each span file ends with a trailer holding the
 * sha256 of its bytes; a span found on disk at open is checked against it before its first read, so
 * a file cut short or damaged (by a power loss, a full disk, or a hand) is deleted and fetched
 * again instead of served.
 *
 * <p>Local copies of whole files made from cached spans (for FUSE passthrough) are counted in the
 * same limit and evicted with the spans, least recently used first.
 */
public final class SpanCache implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SpanCache.class);
  private static final String TEMP_SUFFIX = ".tmp";

  /** Span file trailer: the sha256 of the span's bytes, then this marker. */
  private static final byte[] TRAILER_MAGIC =
      "LZPSPAN1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private static final int DIGEST_SIZE = 32;
  static final int TRAILER_SIZE = DIGEST_SIZE + 8;

  private final Path dir;
  private final long maxBytes;
  private final Map<SpanKey, CachedSpan> spans = new ConcurrentHashMap<>();
  private final AtomicLong totalBytes = new AtomicLong();
  private final AtomicLong useClock = new AtomicLong();
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();

  /** Open descriptors of recently read spans, so a sequential reader does not reopen them. */
  private final Map<SpanKey, FileChannel> channels = new ConcurrentHashMap<>();

  private static final int MAX_OPEN_CHANNELS = 64;

  private final AtomicLong damaged = new AtomicLong();

  /** Local copies of whole files made from cached spans, with their sizes and last use. */
  private final Map<Path, CachedCopy> copies = new ConcurrentHashMap<>();

  /** Copy directories already cleared of copies of earlier runs. */
  private final java.util.Set<Path> clearedCopyDirs = ConcurrentHashMap.newKeySet();

  private static final class CachedCopy {
    final long size;
    volatile long lastUse;

    CachedCopy(long size, long lastUse) {
      this.size = size;
      this.lastUse = lastUse;
    }
  }

  private static final class CachedSpan {
    /** The span's bytes, without the trailer. */
    final long size;

    volatile long lastUse;

    /** Whether the file's bytes were checked against its trailer (or written by this process). */
    volatile boolean verified;

    CachedSpan(long size, long lastUse, boolean verified) {
      this.size = size;
      this.lastUse = lastUse;
      this.verified = verified;
    }

    long fileSize() {
      return size + TRAILER_SIZE;
    }
  }

  private SpanCache(Path dir, long maxBytes) {
    this.dir = dir;
    this.maxBytes = maxBytes;
  }

  /**
   * Opens the cache in {@code dir}, keeping spans from earlier runs (each checked before its first
   * read) and deleting temporary files whose writer is gone.
   */
  public static SpanCache open(Path dir, long maxBytes) throws IOException {
    Files.createDirectories(dir);
    var cache = new SpanCache(dir, maxBytes);
    cache.loadExisting();
    cache.evictOver(maxBytes);
    return cache;
  }

  private void loadExisting() throws IOException {
    try (DirectoryStream<Path> layers = Files.newDirectoryStream(dir)) {
      for (Path layerDir : layers) {
        if (!Files.isDirectory(layerDir)) {
          continue;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(layerDir)) {
          for (Path file : files) {
            loadOne(layerDir.getFileName().toString(), file);
          }
        }
      }
    }
  }

  private void loadOne(String layerHex, Path file) throws IOException {
    String name = file.getFileName().toString();
    if (name.endsWith(TEMP_SUFFIX)) {
      deleteIfWriterGone(file);
      return;
    }
    try {
      var key = new SpanKey(layerHex, Integer.parseInt(name));
      long fileSize = Files.size(file);
      if (fileSize < TRAILER_SIZE) {
        discard(file, "shorter than its trailer");
        return;
      }
      var span = new CachedSpan(fileSize - TRAILER_SIZE, useClock.incrementAndGet(), false);
      spans.put(key, span);
      totalBytes.addAndGet(span.fileSize());
    } catch (IllegalArgumentException e) {
      log.warn("ignoring unexpected file {} in the span cache", file);
    }
  }

  /**
   * Deletes a temporary file left by an interrupted write, never served, unless its writer (another
   * mount sharing this directory) is still running and about to rename it.
   */
  static void deleteIfWriterGone(Path temp) throws IOException {
    String[] parts = temp.getFileName().toString().split("\\.");
    if (parts.length == 4) {
      try {
        long pid = Long.parseLong(parts[1]);
        if (pid != ProcessHandle.current().pid()
            && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          return;
        }
      } catch (NumberFormatException e) {
        // Not one of ours: an interrupted write of an older version. Delete it.
      }
    }
    Files.deleteIfExists(temp);
  }

  /**
   * A temporary name beside {@code target} that no other thread or process sharing the directory
   * uses: {@code <name>.<pid>.<thread id>.tmp}. Thread ids repeat across processes, and two writers
   * of one name would write into one file, which the first rename would publish half-written.
   */
  public static Path tempFor(Path target) {
    return target.resolveSibling(
        target.getFileName()
            + "."
            + ProcessHandle.current().pid()
            + "."
            + Thread.currentThread().threadId()
            + TEMP_SUFFIX);
  }

  private void discard(Path file, String why) {
    damaged.incrementAndGet();
    log.warn("deleting damaged span {} from the cache ({}); it is fetched again", file, why);
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("could not delete damaged span {}: {}", file, e.getMessage());
    }
  }

  private Path pathOf(SpanKey key) {
    return dir.resolve(key.layerHex()).resolve(Integer.toString(key.spanId()));
  }

  /** Whether the span is cached. */
  public boolean contains(SpanKey key) {
    return spans.containsKey(key);
  }

  /**
   * Whether the span is cached and whole: one from an earlier run is checked against its trailer
   * first (and deleted if damaged).
   */
  public boolean containsChecked(SpanKey key) throws IOException {
    CachedSpan span = spans.get(key);
    if (span == null) {
      return false;
    }
    try {
      return span.verified || verify(key, span);
    } catch (NoSuchFileException e) {
      forget(key, span); // evicted by another mount sharing the directory
      return false;
    }
  }

  /**
   * Reads from a cached span into {@code into}, starting at {@code offsetInSpan}, until {@code
   * into} is full or the span ends. Returns the bytes read, or -1 if the span is not cached (or was
   * found damaged, and is no longer).
   */
  public int read(SpanKey key, long offsetInSpan, ByteBuffer into) throws IOException {
    CachedSpan span = spans.get(key);
    if (span == null) {
      misses.incrementAndGet();
      return -1;
    }
    span.lastUse = useClock.incrementAndGet();
    int start = into.position();
    int limit = into.limit();
    into.limit(start + (int) Math.max(0, Math.min(into.remaining(), span.size - offsetInSpan)));
    try {
      // Another thread may close a shared channel while this one reads it (too many open, or
      // eviction); reopen and read again rather than fetching the span again.
      for (int attempt = 0; ; attempt++) {
        into.position(start);
        try {
          if (!span.verified && !verify(key, span)) {
            misses.incrementAndGet();
            return -1;
          }
          int total = readFully(channel(key), offsetInSpan, into);
          hits.incrementAndGet();
          return total;
        } catch (java.nio.channels.ClosedChannelException e) {
          if (Thread.currentThread().isInterrupted()) {
            throw e;
          }
          if (attempt == 2) {
            forget(key, span); // closed under this reader again and again: fetch it instead
            misses.incrementAndGet();
            return -1;
          }
        } catch (NoSuchFileException e) {
          // Evicted (by this process or another sharing the directory) between the lookup and
          // the read: the caller fetches the span again.
          forget(key, span);
          misses.incrementAndGet();
          return -1;
        }
      }
    } finally {
      into.limit(limit);
    }
  }

  private static int readFully(FileChannel channel, long position, ByteBuffer into)
      throws IOException {
    int total = 0;
    while (into.hasRemaining()) {
      int n = channel.read(into, position + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  /**
   * Checks a span found on disk against its trailer, once; a damaged one is deleted and forgotten.
   */
  private boolean verify(SpanKey key, CachedSpan span) throws IOException {
    synchronized (span) {
      if (span.verified) {
        return true;
      }
      Path file = pathOf(key);
      byte[] expected = new byte[DIGEST_SIZE];
      byte[] magic = new byte[TRAILER_MAGIC.length];
      java.security.MessageDigest sha256 = newSha256();
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
        if (channel.size() != span.fileSize()) {
          return damaged(key, span, file, "its size changed to " + channel.size());
        }
        ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
        long position = 0;
        while (position < span.size) {
          buffer.clear().limit((int) Math.min(buffer.capacity(), span.size - position));
          int n = channel.read(buffer, position);
          if (n < 0) {
            return damaged(key, span, file, "it ends early");
          }
          sha256.update(buffer.array(), 0, n);
          position += n;
        }
        ByteBuffer trailer = ByteBuffer.allocate(TRAILER_SIZE);
        readFully(channel, span.size, trailer);
        trailer.flip();
        if (trailer.remaining() != TRAILER_SIZE) {
          return damaged(key, span, file, "its trailer is cut short");
        }
        trailer.get(expected).get(magic);
      }
      if (!java.util.Arrays.equals(magic, TRAILER_MAGIC)) {
        return damaged(key, span, file, "it has no span trailer");
      }
      if (!java.security.MessageDigest.isEqual(sha256.digest(), expected)) {
        return damaged(key, span, file, "its bytes do not match the sha256 in its trailer");
      }
      span.verified = true;
      return true;
    }
  }

  private boolean damaged(SpanKey key, CachedSpan span, Path file, String why) {
    forget(key, span);
    discard(file, why);
    return false;
  }

  private static java.security.MessageDigest newSha256() {
    try {
      return java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
  }

  private FileChannel channel(SpanKey key) throws IOException {
    FileChannel channel = channels.get(key);
    if (channel != null) {
      return channel;
    }
    if (channels.size() >= MAX_OPEN_CHANNELS) {
      for (SpanKey open : List.copyOf(channels.keySet())) {
        closeChannel(open);
      }
    }
    FileChannel opened = FileChannel.open(pathOf(key), StandardOpenOption.READ);
    FileChannel raced = channels.putIfAbsent(key, opened);
    if (raced != null) {
      opened.close();
      return raced;
    }
    return opened;
  }

  private void closeChannel(SpanKey key) {
    FileChannel channel = channels.remove(key);
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        log.debug("closing cached span {}: {}", key, e.getMessage());
      }
    }
  }

  private void forget(SpanKey key, CachedSpan span) {
    if (spans.remove(key, span)) {
      totalBytes.addAndGet(-span.fileSize());
    }
    closeChannel(key);
  }

  /**
   * Stores a verified, decompressed span. The bytes and their sha256 trailer go to a temporary file
   * that is renamed into place only when complete.
   *
   * @throws IOException when the disk is full or unwritable; the caller then serves the bytes it
   *     has without caching them
   */
  public void put(SpanKey key, ByteBuffer data) throws IOException {
    if (spans.containsKey(key)) {
      return;
    }
    long size = data.remaining();
    java.security.MessageDigest sha256 = newSha256();
    sha256.update(data.duplicate());
    ByteBuffer trailer =
        ByteBuffer.allocate(TRAILER_SIZE).put(sha256.digest()).put(TRAILER_MAGIC).flip();
    Path target = pathOf(key);
    Files.createDirectories(target.getParent());
    Path temp = tempFor(target);
    try (FileChannel channel =
        FileChannel.open(
            temp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer view = data.duplicate();
      while (view.hasRemaining()) {
        channel.write(view);
      }
      while (trailer.hasRemaining()) {
        channel.write(trailer);
      }
    } catch (IOException e) {
      Files.deleteIfExists(temp);
      throw e;
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    var span = new CachedSpan(size, useClock.incrementAndGet(), true);
    if (spans.putIfAbsent(key, span) == null) {
      totalBytes.addAndGet(span.fileSize());
    }
    evictOver(maxBytes);
  }

  /** Whether this process made {@code file} as a copy and has not evicted it; marks it used. */
  public boolean hasCopy(Path file) {
    CachedCopy copy = copies.get(file);
    if (copy == null || !Files.isRegularFile(file)) {
      return false;
    }
    copy.lastUse = useClock.incrementAndGet();
    return true;
  }

  /**
   * Counts a complete local copy of a file (made from cached spans and renamed into place) in the
   * cache's size, so that it is evicted with the spans; marks it used if already counted.
   */
  public void addCopy(Path file) throws IOException {
    CachedCopy known = copies.get(file);
    if (known != null) {
      known.lastUse = useClock.incrementAndGet();
      return;
    }
    var copy = new CachedCopy(Files.size(file), useClock.incrementAndGet());
    if (copies.putIfAbsent(file, copy) == null) {
      totalBytes.addAndGet(copy.size);
    }
    evictOver(maxBytes);
  }

  /**
   * Deletes, once per directory, the copies that earlier runs left in {@code dir} ({@code
   * <dir>/<layer hex>/<name>}) and their interrupted writes. A copy has no trailer to check it by
   * (the kernel reads it as the file itself), so one that a power loss damaged could not be told
   * from a good one: copies are remade from verified spans when next needed. Temporary files of a
   * live writer (another mount sharing the directory) are kept.
   */
  public void clearCopiesOfEarlierRuns(Path dir) throws IOException {
    if (!clearedCopyDirs.add(dir) || !Files.isDirectory(dir)) {
      return;
    }
    try (DirectoryStream<Path> layers = Files.newDirectoryStream(dir)) {
      for (Path layerDir : layers) {
        if (!Files.isDirectory(layerDir)) {
          continue;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(layerDir)) {
          for (Path file : files) {
            if (file.getFileName().toString().endsWith(TEMP_SUFFIX)) {
              deleteIfWriterGone(file);
            } else if (!copies.containsKey(file)) {
              Files.deleteIfExists(file);
            }
          }
        }
      }
    }
  }

  /** One span or copy that eviction may delete. */
  private record Candidate(long lastUse, Runnable evict) {}

  /**
   * Deletes least recently used spans and copies until the cache holds at most {@code limit} bytes.
   */
  private synchronized void evictOver(long limit) {
    if (totalBytes.get() <= limit) {
      return;
    }
    List<Candidate> byAge = new ArrayList<>();
    for (var entry : spans.entrySet()) {
      byAge.add(
          new Candidate(
              entry.getValue().lastUse, () -> evictSpan(entry.getKey(), entry.getValue())));
    }
    for (var entry : copies.entrySet()) {
      byAge.add(
          new Candidate(
              entry.getValue().lastUse, () -> evictCopy(entry.getKey(), entry.getValue())));
    }
    byAge.sort(Comparator.comparingLong(Candidate::lastUse));
    for (Candidate candidate : byAge) {
      if (totalBytes.get() <= limit) {
        break;
      }
      candidate.evict().run();
    }
  }

  private void evictSpan(SpanKey key, CachedSpan span) {
    if (spans.remove(key, span)) {
      totalBytes.addAndGet(-span.fileSize());
      closeChannel(key);
      deleteQuietly(pathOf(key));
    }
  }

  // A passthrough file open in the kernel keeps reading the unlinked copy until it is closed.
  private void evictCopy(Path file, CachedCopy copy) {
    if (copies.remove(file, copy)) {
      totalBytes.addAndGet(-copy.size);
      deleteQuietly(file);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("could not delete {} from the cache: {}", file, e.getMessage());
    }
  }

  /** Bytes held now. */
  public long sizeBytes() {
    return totalBytes.get();
  }

  public long maxBytes() {
    return maxBytes;
  }

  public long hits() {
    return hits.get();
  }

  public long misses() {
    return misses.get();
  }

  /** Closes the descriptors of recently read spans; the cache may still be used (it reopens). */
  @Override
  public void close() {
    for (SpanKey open : List.copyOf(channels.keySet())) {
      closeChannel(open);
    }
  }

  /** Span files found damaged (cut short or not matching their trailer) and deleted. */
  public long damagedSpans() {
    return damaged.get();
  }
}
