package dev.lazypull.fs.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.fs.cache.SpanCache;
import dev.lazypull.oci.Digest;
import dev.lazypull.testing.TestLayers;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IndexedLayerTest {
  private static final long SPAN = 64 * 1024;
  static byte[] tar;
  static byte[] gzip;
  static Ztoc ztoc;
  static Digest digest;

  @TempDir Path cacheDir;
  final List<long[]> requests = Collections.synchronizedList(new ArrayList<>());
  final AtomicInteger corruptNext = new AtomicInteger();
  volatile boolean down;

  @BeforeAll
  static void makeLayer() throws IOException {
    var builder = TestLayers.tar();
    for (int i = 0; i < 20; i++) {
      builder.file("dir/file" + i, TestLayers.textBytes(i, 30_000 + i * 1000));
    }
    builder.file("big", TestLayers.randomBytes(99, 700_000));
    tar = builder.build().bytes();
    gzip = TestLayers.gzip(tar);
    digest = Digest.sha256(gzip);
    ztoc = new ZtocBuilder(SPAN, "test").build(new ByteArrayInputStream(gzip), "test layer");
    assertThat(ztoc.spanCount()).isGreaterThan(10);
  }

  private IndexedLayer layer(long cacheBytes) throws IOException {
    CompressedBytes source =
        (offset, length) -> {
          if (down) {
            throw new IOException("registry down");
          }
          requests.add(new long[] {offset, length});
          byte[] bytes = Arrays.copyOfRange(gzip, (int) offset, (int) offset + length);
          if (corruptNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            bytes[length / 2] ^= 1;
          }
          return bytes;
        };
    return new IndexedLayer(
        digest,
        ztoc,
        source,
        SpanCache.open(cacheDir, cacheBytes),
        new FetchCounters(),
        Duration.ofSeconds(10));
  }

  private static byte[] read(IndexedLayer layer, long offset, int length) throws IOException {
    ByteBuffer into = ByteBuffer.allocate(length);
    int n = layer.read(offset, into);
    return Arrays.copyOf(into.array(), n);
  }

  @Test
  void read_returnsTheTarBytesAnywhere() throws IOException {
    IndexedLayer layer = layer(1 << 30);
    for (long offset : new long[] {0, 1, SPAN - 3, SPAN * 5 + 17, tar.length - 100}) {
      int length = (int) Math.min(200_000, tar.length - offset);
      assertThat(read(layer, offset, length))
          .isEqualTo(Arrays.copyOfRange(tar, (int) offset, (int) offset + length));
    }
    assertThat(read(layer, tar.length - 10, 100)).hasSize(10);
  }

  @Test
  void read_fetchesOnlyTouchedSpansInOneRequestAndCachesThem() throws IOException {
    IndexedLayer layer = layer(1 << 30);
    long offset = ztoc.span(3).uncompressedStart() + 10;
    int length = (int) (ztoc.span(5).uncompressedStart() - offset + 5);
    read(layer, offset, length);
    assertThat(requests).hasSize(1);
    assertThat(requests.getFirst()[0]).isEqualTo(ztoc.span(3).compressedStart());
    assertThat(requests.getFirst()[0] + requests.getFirst()[1])
        .isEqualTo(ztoc.span(5).compressedEnd());
    read(layer, offset, length);
    assertThat(requests).as("the second read is served from the cache").hasSize(1);
  }

  @Test
  void read_corruptSpanIsFetchedAgainOnce() throws IOException {
    IndexedLayer layer = layer(1 << 30);
    corruptNext.set(1);
    assertThat(read(layer, 0, 1000)).isEqualTo(Arrays.copyOf(tar, 1000));
    assertThat(requests).hasSize(2);
  }

  @Test
  void read_persistentlyCorruptSpanFailsThenRecovers() throws Exception {
    IndexedLayer layer = layer(1 << 30);
    corruptNext.set(2);
    assertThatThrownBy(() -> read(layer, 0, 1000))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("digest");
    Thread.sleep(300); // past the moment in which a failed span fails again without asking
    assertThat(read(layer, 0, 1000)).isEqualTo(Arrays.copyOf(tar, 1000));
  }

  @Test
  void read_spanThatJustFailed_failsAgainAtOnceWithoutAsking() throws Exception {
    // The kernel asks again at once for a page whose readahead failed: that second request used
    // to wait the whole read timeout again, doubling what one read() waited.
    IndexedLayer layer = layer(1 << 30);
    down = true;
    assertThatThrownBy(() -> read(layer, 0, 10)).hasMessageContaining("registry down");
    int asked = requests.size();
    down = false;
    assertThatThrownBy(() -> read(layer, 0, 10)).hasMessageContaining("a moment ago");
    assertThat(requests).hasSize(asked);
    Thread.sleep(300);
    assertThat(read(layer, 0, 10)).isEqualTo(Arrays.copyOf(tar, 10));
  }

  @Test
  void read_registryDownFailsThenWorksWithoutRemount() throws Exception {
    IndexedLayer layer = layer(1 << 30);
    down = true;
    assertThatThrownBy(() -> read(layer, 0, 10)).hasMessageContaining("registry down");
    down = false;
    Thread.sleep(300);
    assertThat(read(layer, 0, 10)).isEqualTo(Arrays.copyOf(tar, 10));
  }

  @Test
  void read_tinyCacheStillServesRightBytes() throws IOException {
    IndexedLayer layer = layer(SPAN);
    assertThat(read(layer, 0, tar.length)).isEqualTo(tar);
  }

  @Test
  void read_concurrentReadersShareOneFetch() throws Exception {
    IndexedLayer layer = layer(1 << 30);
    try (var pool = Executors.newFixedThreadPool(8)) {
      List<Future<byte[]>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        results.add(pool.submit(() -> read(layer, SPAN * 7, 1000)));
      }
      for (var result : results) {
        assertThat(result.get())
            .isEqualTo(Arrays.copyOfRange(tar, (int) SPAN * 7, (int) SPAN * 7 + 1000));
      }
    }
    assertThat(requests.size()).isLessThanOrEqualTo(2);
  }

  @Test
  void fetchAllInBackground_cachesEverythingAndChecksTheLayerDigest() throws Exception {
    IndexedLayer layer = layer(1 << 30);
    read(layer, SPAN * 2, 10);
    assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isTrue();
    int before = requests.size();
    assertThat(read(layer, 0, tar.length)).isEqualTo(tar);
    assertThat(requests).hasSize(before);
  }

  @Test
  void fetchAllInBackground_corruptSpanTwice_stopsWithoutMarkingTheLayerBad() throws Exception {
    // Bytes corrupted on the way were hashed into the whole-layer digest, which then failed and
    // marked the layer bad for good: every read failed even after the network recovered.
    IndexedLayer layer = layer(1 << 30);
    read(layer, 0, 10); // span 0 cached: the background fetch still fetches and hashes it
    corruptNext.set(2);
    assertThatThrownBy(() -> layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("did not match its zTOC digest");
    assertThat(read(layer, 0, tar.length)).isEqualTo(tar);
    assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isTrue();
  }

  @Test
  void fetchAllInBackground_wrongLayerDigestMarksTheLayerBad() throws Exception {
    var wrong =
        new IndexedLayer(
            Digest.sha256(new byte[1]),
            ztoc,
            (o, l) -> Arrays.copyOfRange(gzip, (int) o, (int) o + l),
            SpanCache.open(cacheDir, 1 << 30),
            new FetchCounters(),
            Duration.ofSeconds(5));
    assertThat(wrong.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isFalse();
    assertThatThrownBy(() -> read(wrong, 0, 10)).isInstanceOf(BadLayerException.class);
  }

  @Test
  void fetchAllInBackground_checkpointWindowsSwapped_marksTheLayerBadByItsDiffId()
      throws Exception {
    // No span digest covers a checkpoint's window, so a zTOC with two windows swapped inflated
    // wrong bytes with every digest matching; the diff id is what catches it, once all is fetched.
    var checkpoints = (dev.lazypull.ztoc.GzipCheckpoints) ztoc.compressionInfo().layout();
    var windows = new ArrayList<byte[]>();
    for (int i = 0; i < checkpoints.checkpoints().size(); i++) {
      windows.add(checkpoints.window(i));
    }
    Collections.swap(windows, 2, 3);
    var info = ztoc.compressionInfo();
    var lying =
        new Ztoc(
            ztoc.version(),
            ztoc.buildToolIdentifier(),
            ztoc.compressedArchiveSize(),
            ztoc.uncompressedArchiveSize(),
            ztoc.files(),
            new dev.lazypull.ztoc.CompressionInfo(
                info.algorithm(),
                info.spanDigests(),
                new dev.lazypull.ztoc.GzipCheckpoints(
                    checkpoints.spanSize(), checkpoints.checkpoints(), windows)));
    var layer =
        new IndexedLayer(
            digest,
            Digest.sha256(tar),
            lying,
            (o, l) -> Arrays.copyOfRange(gzip, (int) o, (int) o + l),
            SpanCache.open(cacheDir, 1 << 30),
            new FetchCounters(),
            Duration.ofSeconds(5));
    assertThat(read(layer, SPAN * 3, (int) SPAN))
        .as("the lie shows in span 3")
        .isNotEqualTo(Arrays.copyOfRange(tar, (int) SPAN * 3, (int) SPAN * 4));

    assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isFalse();
    assertThatThrownBy(() -> read(layer, 0, 10))
        .isInstanceOf(BadLayerException.class)
        .hasMessageContaining("diff id");
  }

  @Test
  void fetchAllInBackground_rightDiffId_keepsTheLayerGood() throws Exception {
    var layer =
        new IndexedLayer(
            digest,
            Digest.sha256(tar),
            ztoc,
            (o, l) -> Arrays.copyOfRange(gzip, (int) o, (int) o + l),
            SpanCache.open(cacheDir, 1 << 30),
            new FetchCounters(),
            Duration.ofSeconds(5));
    read(layer, SPAN * 2, 10);
    assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isTrue();
    assertThat(read(layer, 0, tar.length)).isEqualTo(tar);
  }

  @Test
  void fetchAllInBackground_replacesASpanAnEarlierRunLeftDamaged() throws Exception {
    // The background fetcher took every span on disk for good: one damaged by a power loss was
    // found only at a read, which failed if the registry had gone by then.
    layer(1 << 30).fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer());
    Path span3 = cacheDir.resolve(digest.hex()).resolve("3");
    byte[] bytes = java.nio.file.Files.readAllBytes(span3);
    bytes[7] ^= 1;
    java.nio.file.Files.write(span3, bytes);
    IndexedLayer restarted = layer(1 << 30);
    assertThat(restarted.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isTrue();
    down = true;
    long offset = ztoc.span(3).uncompressedStart();
    assertThat(read(restarted, offset, 1000))
        .isEqualTo(Arrays.copyOfRange(tar, (int) offset, (int) offset + 1000));
  }

  @Test
  void read_spanAnEarlierRunLeftCutShortIsFetchedAgain() throws Exception {
    layer(1 << 30).fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer());
    Path span4 = cacheDir.resolve(digest.hex()).resolve("4");
    java.nio.file.Files.write(
        span4, Arrays.copyOf(java.nio.file.Files.readAllBytes(span4), (int) (SPAN / 2)));
    IndexedLayer restarted = layer(1 << 30);
    requests.clear();
    long offset = ztoc.span(4).uncompressedStart();
    int length = (int) (ztoc.span(4).uncompressedEnd() - offset);
    assertThat(read(restarted, offset, length))
        .isEqualTo(Arrays.copyOfRange(tar, (int) offset, (int) offset + length));
    assertThat(requests).as("span 4 fetched again, nothing else").hasSize(1);
  }
}
