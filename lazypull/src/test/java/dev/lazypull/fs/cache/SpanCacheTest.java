package dev.lazypull.fs.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpanCacheTest {
  private static final String LAYER = "a".repeat(64);

  @TempDir Path dir;

  private static ByteBuffer bytes(int size, int seed) {
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) (i * 31 + seed);
    }
    return ByteBuffer.wrap(data);
  }

  @Test
  void read_returnsWhatWasPut() throws Exception {
    SpanCache cache = SpanCache.open(dir, 1 << 20);
    var key = new SpanKey(LAYER, 3);
    cache.put(key, bytes(1000, 7));
    ByteBuffer into = ByteBuffer.allocate(100);
    assertThat(cache.read(key, 900, into)).isEqualTo(100);
    assertThat(into.array())
        .isEqualTo(java.util.Arrays.copyOfRange(bytes(1000, 7).array(), 900, 1000));
    assertThat(cache.read(new SpanKey(LAYER, 4), 0, ByteBuffer.allocate(1))).isEqualTo(-1);
  }

  @Test
  void put_evictsLeastRecentlyUsedOverTheLimit() throws Exception {
    SpanCache cache = SpanCache.open(dir, 2500);
    var first = new SpanKey(LAYER, 0);
    var second = new SpanKey(LAYER, 1);
    var third = new SpanKey(LAYER, 2);
    cache.put(first, bytes(1000, 1));
    cache.put(second, bytes(1000, 2));
    cache.read(first, 0, ByteBuffer.allocate(1)); // first is now more recent than second
    cache.put(third, bytes(1000, 3));
    assertThat(cache.sizeBytes()).isLessThanOrEqualTo(2500);
    assertThat(cache.contains(first)).isTrue();
    assertThat(cache.contains(second)).isFalse();
    assertThat(cache.contains(third)).isTrue();
    assertThat(dir.resolve(LAYER).resolve("1")).doesNotExist();
  }

  @Test
  void open_keepsCompleteSpansAndDropsTemporaryFiles() throws Exception {
    SpanCache cache = SpanCache.open(dir, 1 << 20);
    cache.put(new SpanKey(LAYER, 0), bytes(10, 0));
    Path leftover = dir.resolve(LAYER).resolve("1.99.tmp");
    Files.write(leftover, new byte[5]);
    SpanCache reopened = SpanCache.open(dir, 1 << 20);
    assertThat(reopened.contains(new SpanKey(LAYER, 0))).isTrue();
    assertThat(reopened.contains(new SpanKey(LAYER, 1))).isFalse();
    assertThat(leftover).doesNotExist();
    assertThat(reopened.sizeBytes()).isEqualTo(10 + SpanCache.TRAILER_SIZE);
  }

  @Test
  void open_enforcesASmallerLimitAtStart() throws Exception {
    SpanCache cache = SpanCache.open(dir, 1 << 20);
    for (int i = 0; i < 5; i++) {
      cache.put(new SpanKey(LAYER, i), bytes(1000, i));
    }
    assertThat(SpanCache.open(dir, 2000).sizeBytes()).isLessThanOrEqualTo(2000);
  }

  private static byte[] readSpan(SpanCache cache, SpanKey key, int size) throws Exception {
    ByteBuffer into = ByteBuffer.allocate(size);
    int n = cache.read(key, 0, into);
    return n < 0 ? null : java.util.Arrays.copyOf(into.array(), n);
  }

  @Test
  void open_spanCutShortByACrashIsNotServedAndIsDeleted() throws Exception {
    // A span file cut short (a power loss after the rename, or a copy by hand) must never be read
    // as if it were the span: before the trailer it was served with its missing bytes, or read
    // short, which the layer took for a span that vanished.
    var key = new SpanKey(LAYER, 0);
    SpanCache.open(dir, 1 << 20).put(key, bytes(5000, 1));
    Path file = dir.resolve(LAYER).resolve("0");
    byte[] whole = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(whole, 3000));
    SpanCache reopened = SpanCache.open(dir, 1 << 20);
    assertThat(readSpan(reopened, key, 5000)).isNull();
    assertThat(reopened.contains(key)).isFalse();
    assertThat(reopened.damagedSpans()).isEqualTo(1);
    assertThat(reopened.sizeBytes()).isZero();
    assertThat(file).doesNotExist();
    reopened.put(key, bytes(5000, 1));
    assertThat(readSpan(reopened, key, 5000)).isEqualTo(bytes(5000, 1).array());
  }

  @Test
  void open_spanWithAFlippedByteIsNotServed() throws Exception {
    var key = new SpanKey(LAYER, 2);
    SpanCache.open(dir, 1 << 20).put(key, bytes(5000, 2));
    Path file = dir.resolve(LAYER).resolve("2");
    byte[] damaged = Files.readAllBytes(file);
    damaged[4321] ^= 1;
    Files.write(file, damaged);
    SpanCache reopened = SpanCache.open(dir, 1 << 20);
    assertThat(readSpan(reopened, key, 10)).isNull();
    assertThat(file).doesNotExist();
  }

  @Test
  void open_spanWithoutTrailerFromAnOlderVersionIsNotServed() throws Exception {
    var key = new SpanKey(LAYER, 3);
    Files.createDirectories(dir.resolve(LAYER));
    Files.write(dir.resolve(LAYER).resolve("3"), bytes(5000, 3).array());
    SpanCache reopened = SpanCache.open(dir, 1 << 20);
    assertThat(readSpan(reopened, key, 5000)).isNull();
    assertThat(reopened.contains(key)).isFalse();
  }

  @Test
  void open_keepsTheTemporaryFileOfAnotherLiveMount() throws Exception {
    // Two mounts share a cache directory: the second's open deleted the first's file while it was
    // being written, so the first's rename failed and it served that layer uncached.
    Files.createDirectories(dir.resolve(LAYER));
    long livePid = ProcessHandle.current().parent().orElseThrow().pid();
    Path live = dir.resolve(LAYER).resolve("4." + livePid + ".1.tmp");
    Path dead = dir.resolve(LAYER).resolve("5." + Integer.MAX_VALUE + ".1.tmp");
    Files.write(live, new byte[5]);
    Files.write(dead, new byte[5]);
    SpanCache.open(dir, 1 << 20);
    assertThat(live).exists();
    assertThat(dead).doesNotExist();
  }

  @Test
  void tempFor_differsBetweenThreads() throws Exception {
    Path target = dir.resolve("0");
    Path here = SpanCache.tempFor(target);
    var there = new java.util.concurrent.atomic.AtomicReference<Path>();
    Thread other = Thread.ofPlatform().start(() -> there.set(SpanCache.tempFor(target)));
    other.join();
    assertThat(here).isNotEqualTo(there.get());
    assertThat(here.getFileName().toString())
        .startsWith("0." + ProcessHandle.current().pid() + ".");
  }

  @Test
  void read_manyThreadsOverMoreSpansThanOpenChannelsAllHitTheCache() throws Exception {
    // Past 64 open spans the cache closes its channels; a reader in the middle of one took the
    // close for an eviction, dropped the span from the index (its bytes still counted) and made
    // the layer fetch it again.
    SpanCache cache = SpanCache.open(dir, 1 << 30);
    int spanCount = 200;
    for (int i = 0; i < spanCount; i++) {
      cache.put(new SpanKey(LAYER, i), bytes(4096, i));
    }
    long sizeBefore = cache.sizeBytes();
    var failures = new java.util.concurrent.atomic.AtomicInteger();
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(16)) {
      for (int t = 0; t < 16; t++) {
        int seed = t;
        pool.submit(
            () -> {
              var random = new java.util.Random(seed);
              for (int r = 0; r < 2000; r++) {
                int id = random.nextInt(spanCount);
                try {
                  byte[] got = readSpan(cache, new SpanKey(LAYER, id), 4096);
                  if (!java.util.Arrays.equals(got, bytes(4096, id).array())) {
                    failures.incrementAndGet();
                  }
                } catch (Exception e) {
                  failures.incrementAndGet();
                }
              }
            });
      }
    }
    assertThat(failures.get()).isZero();
    assertThat(cache.misses()).isZero();
    assertThat(cache.sizeBytes()).isEqualTo(sizeBefore);
  }

  @Test
  void addCopy_countsInTheLimitAndIsEvictedWithTheSpans() throws Exception {
    // Passthrough copies were not counted in --cache-size: a cache full of copies grew without
    // bound beside its limit.
    SpanCache cache = SpanCache.open(dir.resolve("spans"), 5000);
    var span = new SpanKey(LAYER, 0);
    cache.put(span, bytes(1000, 0));
    Path copy = Files.createDirectories(dir.resolve("files").resolve(LAYER)).resolve("512");
    Files.write(copy, new byte[3000]);
    cache.addCopy(copy);
    assertThat(cache.sizeBytes()).isEqualTo(1000 + SpanCache.TRAILER_SIZE + 3000);
    assertThat(cache.hasCopy(copy)).isTrue(); // the copy is now more recent than the span
    cache.put(new SpanKey(LAYER, 1), bytes(1000, 1));
    assertThat(cache.contains(span)).as("least recently used: evicted").isFalse();
    assertThat(copy).exists();
    Files.write(copy.resolveSibling("9"), new byte[3000]);
    cache.addCopy(copy.resolveSibling("9"));
    assertThat(cache.sizeBytes()).isLessThanOrEqualTo(5000);
    assertThat(copy).doesNotExist();
    assertThat(cache.hasCopy(copy)).isFalse();
  }

  @Test
  void clearCopiesOfEarlierRuns_deletesOldCopiesAndDeadWritersTemporaryFiles() throws Exception {
    Path layerDir = Files.createDirectories(dir.resolve("files").resolve(LAYER));
    Path old = layerDir.resolve("512");
    Path deadTemp = layerDir.resolve("1024." + Integer.MAX_VALUE + ".3.tmp");
    long livePid = ProcessHandle.current().parent().orElseThrow().pid();
    Path liveTemp = layerDir.resolve("2048." + livePid + ".3.tmp");
    for (Path file : java.util.List.of(old, deadTemp, liveTemp)) {
      Files.write(file, new byte[10]);
    }
    SpanCache cache = SpanCache.open(dir.resolve("spans"), 1 << 20);
    cache.clearCopiesOfEarlierRuns(dir.resolve("files"));
    assertThat(old).doesNotExist();
    assertThat(deadTemp).doesNotExist();
    assertThat(liveTemp).exists();
    assertThat(cache.hasCopy(old)).isFalse();
  }
}
