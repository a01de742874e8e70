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
 */
public final class SpanCache {
  private static final Logger log = LoggerFactory.getLogger(SpanCache.class);
  private static final String TEMP_SUFFIX = ".tmp";

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

  private static final class CachedSpan {
    final long size;
    volatile long lastUse;

    CachedSpan(long size, long lastUse) {
      this.size = size;
      this.lastUse = lastUse;
    }
  }

  private SpanCache(Path dir, long maxBytes) {
    this.dir = dir;
    this.maxBytes = maxBytes;
  }

  /**
   * Opens the cache in {@code dir}, keeping complete spans from earlier runs and deleting temporary
   * files that a crash left.
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
      Files.deleteIfExists(file); // an interrupted write: never served
      return;
    }
    try {
      var key = new SpanKey(layerHex, Integer.parseInt(name));
      long size = Files.size(file);
      spans.put(key, new CachedSpan(size, useClock.incrementAndGet()));
      totalBytes.addAndGet(size);
    } catch (IllegalArgumentException e) {
      log.warn("ignoring unexpected file {} in the span cache", file);
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
   * Reads from a cached span into {@code into}, starting at {@code offsetInSpan}, until {@code
   * into} is full or the span ends. Returns the bytes read, or -1 if the span is not cached.
   */
  public int read(SpanKey key, long offsetInSpan, ByteBuffer into) throws IOException {
    CachedSpan span = spans.get(key);
    if (span == null) {
      misses.incrementAndGet();
      return -1;
    }
    span.lastUse = useClock.incrementAndGet();
    try {
      FileChannel channel = channel(key);
      int total = 0;
      long position = offsetInSpan;
      while (into.hasRemaining()) {
        int n = channel.read(into, position);
        if (n < 0) {
          break;
        }
        total += n;
        position += n;
      }
      hits.incrementAndGet();
      return total;
    } catch (NoSuchFileException | java.nio.channels.ClosedChannelException e) {
      // Evicted between the lookup and the read: the caller fetches the span again.
      forget(key);
      misses.incrementAndGet();
      return -1;
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

  private void forget(SpanKey key) {
    spans.remove(key);
    closeChannel(key);
  }

  /**
   * Stores a verified, decompressed span. The bytes go to a temporary file that is renamed into
   * place only when complete.
   *
   * @throws IOException when the disk is full or unwritable; the caller then serves the bytes it
   *     has without caching them
   */
  public void put(SpanKey key, ByteBuffer data) throws IOException {
    if (spans.containsKey(key)) {
      return;
    }
    long size = data.remaining();
    Path target = pathOf(key);
    Files.createDirectories(target.getParent());
    Path temp =
        target.resolveSibling(
            target.getFileName() + "." + Thread.currentThread().threadId() + TEMP_SUFFIX);
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
    } catch (IOException e) {
      Files.deleteIfExists(temp);
      throw e;
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    if (spans.putIfAbsent(key, new CachedSpan(size, useClock.incrementAndGet())) == null) {
      totalBytes.addAndGet(size);
    }
    evictOver(maxBytes);
  }

  /** Deletes least recently used spans until the cache holds at most {@code limit} bytes. */
  private synchronized void evictOver(long limit) {
    if (totalBytes.get() <= limit) {
      return;
    }
    List<Map.Entry<SpanKey, CachedSpan>> byAge = new ArrayList<>(spans.entrySet());
    byAge.sort(Comparator.comparingLong(e -> e.getValue().lastUse));
    for (var entry : byAge) {
      if (totalBytes.get() <= limit) {
        break;
      }
      if (spans.remove(entry.getKey(), entry.getValue())) {
        totalBytes.addAndGet(-entry.getValue().size);
        closeChannel(entry.getKey());
        try {
          Files.deleteIfExists(pathOf(entry.getKey()));
        } catch (IOException e) {
          log.warn("could not delete cached span {}: {}", entry.getKey(), e.getMessage());
        }
      }
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
}
