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
    assertThat(reopened.sizeBytes()).isEqualTo(10);
  }

  @Test
  void open_enforcesASmallerLimitAtStart() throws Exception {
    SpanCache cache = SpanCache.open(dir, 1 << 20);
    for (int i = 0; i < 5; i++) {
      cache.put(new SpanKey(LAYER, i), bytes(1000, i));
    }
    assertThat(SpanCache.open(dir, 2000).sizeBytes()).isLessThanOrEqualTo(2000);
  }
}
