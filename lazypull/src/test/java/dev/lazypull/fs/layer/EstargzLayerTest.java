package dev.lazypull.fs.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.estargz.ChunkDigestMismatchException;
import dev.lazypull.estargz.EstargzReader;
import dev.lazypull.estargz.EstargzWriter;
import dev.lazypull.estargz.FileChunk;
import dev.lazypull.fs.cache.SpanCache;
import dev.lazypull.oci.Digest;
import dev.lazypull.testing.LegacyStargz;
import dev.lazypull.testing.TestLayers;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.Deflater;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EstargzLayerTest {
  private static final int CHUNK = 16 << 10;
  private static final byte[] A = TestLayers.randomBytes(1, 5 * CHUNK + 7);
  private static final byte[] B = TestLayers.textBytes(2, 40_000);

  @TempDir Path temp;

  private final AtomicInteger fetches = new AtomicInteger();

  private byte[] blob(List<String> prefetch) throws Exception {
    Path tar = temp.resolve("layer.tar");
    Files.write(
        tar,
        TestLayers.tar()
            .dir("d/")
            .file("d/a", A)
            .file("d/empty", new byte[0])
            .file("d/b", B)
            .build()
            .bytes());
    var out = new ByteArrayOutputStream();
    tocDigest =
        new EstargzWriter(new EstargzWriter.Options(CHUNK, prefetch, Deflater.BEST_SPEED))
            .write(tar, out)
            .tocDigest();
    return out.toByteArray();
  }

  /** The TOC digest of the last blob written, as the layer's annotation would carry it. */
  private @Nullable Digest tocDigest;

  private EstargzLayer open(byte[] blob) throws Exception {
    return open(blob, Digest.sha256(blob), tocDigest, servedFrom(blob));
  }

  private CompressedBytes servedFrom(byte[] blob) {
    return (offset, length) -> {
      fetches.incrementAndGet();
      return Arrays.copyOfRange(blob, (int) offset, (int) offset + length);
    };
  }

  /** A layer of digest {@code layerDigest} read from {@code source}; TOC unverified if null. */
  private EstargzLayer open(
      byte[] blob, Digest layerDigest, @Nullable Digest expectedToc, CompressedBytes source)
      throws Exception {
    var reader =
        EstargzReader.open(source::fetch, blob.length, expectedToc, expectedToc == null, "test");
    fetches.set(0);
    return new EstargzLayer(
        layerDigest,
        reader,
        source,
        SpanCache.open(temp.resolve("cache"), 1 << 30),
        new FetchCounters(),
        Duration.ofSeconds(10));
  }

  @Test
  void read_acrossChunksAndFiles_servesTheFilesBytesEndToEnd() throws Exception {
    EstargzLayer layer = open(blob(List.of()));

    assertThat(layer.uncompressedSize()).isEqualTo(A.length + B.length);
    long a = layer.dataOffset("d/a");
    long b = layer.dataOffset("d/b");
    ByteBuffer middle = ByteBuffer.allocate(3 * CHUNK);
    assertThat(layer.read(a + CHUNK / 2, middle)).isEqualTo(3 * CHUNK);
    assertThat(middle.array()).isEqualTo(Arrays.copyOfRange(A, CHUNK / 2, CHUNK / 2 + 3 * CHUNK));
    assertThat(fetches).hasValue(4);

    ByteBuffer whole = ByteBuffer.allocate(B.length);
    layer.read(b, whole);
    assertThat(whole.array()).isEqualTo(B);
    ByteBuffer again = ByteBuffer.allocate(CHUNK);
    layer.read(a + CHUNK, again);
    assertThat(fetches).as("cached chunks are not fetched again").hasValue(4 + 3);
    assertThat(layer.dataFollowsTarHeader()).isFalse();
  }

  @Test
  void read_pastTheEnd_stopsAtTheLayerEnd() throws Exception {
    EstargzLayer layer = open(blob(List.of()));
    ByteBuffer tail = ByteBuffer.allocate(100);

    assertThat(layer.read(layer.uncompressedSize() - 10, tail)).isEqualTo(10);
  }

  @Test
  void prefetchStartupFiles_listedFiles_fetchedInOneRequestAndServedFromCache() throws Exception {
    EstargzLayer layer = open(blob(List.of("d/a")));

    assertThat(layer.prefetchStartupFiles()).isEqualTo(6);
    assertThat(fetches).hasValue(1);
    ByteBuffer all = ByteBuffer.allocate(A.length);
    layer.read(layer.dataOffset("d/a"), all);
    assertThat(all.array()).isEqualTo(A);
    assertThat(fetches).hasValue(1);
  }

  @Test
  void prefetchStartupFiles_noLandmark_fetchesNothing() throws Exception {
    EstargzLayer layer = open(blob(List.of()));

    assertThat(layer.prefetchStartupFiles()).isZero();
    assertThat(fetches).hasValue(0);
  }

  @Test
  void read_chunkNotMatchingItsDigest_failsNamingTheChunk() throws Exception {
    byte[] blob = blob(List.of());
    EstargzLayer clean = open(blob);
    FileChunk second = clean.index().chunks("d/a").get(1);
    byte[] corrupt = blob.clone();
    // Swap chunk 1's member for chunk 2's: valid gzip of the same size, the wrong bytes.
    FileChunk third = clean.index().chunks("d/a").get(2);
    assertThat(third.compressedLength()).isEqualTo(second.compressedLength());
    System.arraycopy(
        blob,
        (int) third.compressedOffset(),
        corrupt,
        (int) second.compressedOffset(),
        (int) second.compressedLength());
    EstargzLayer layer = open(corrupt);

    assertThatThrownBy(() -> layer.read(layer.dataOffset("d/a") + CHUNK, ByteBuffer.allocate(10)))
        .isInstanceOf(ChunkDigestMismatchException.class)
        .hasMessageContaining("chunk 1 (file bytes " + CHUNK)
        .hasMessageContaining(second.digest().toString());
  }

  @Test
  void fetchAllInBackground_afterPrefetch_cachesTheRestInFewRequests() throws Exception {
    EstargzLayer layer = open(blob(List.of("d/b")));
    layer.prefetchStartupFiles();

    assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isTrue();
    assertThat(fetches).as("the prefetch, then one run for the rest").hasValue(2);
    ByteBuffer all = ByteBuffer.allocate((int) layer.uncompressedSize());
    layer.read(0, all);
    assertThat(fetches).as("every chunk came from the cache").hasValue(2);
    long a = layer.dataOffset("d/a");
    long b = layer.dataOffset("d/b");
    assertThat(Arrays.copyOfRange(all.array(), (int) a, (int) a + A.length)).isEqualTo(A);
    assertThat(Arrays.copyOfRange(all.array(), (int) b, (int) b + B.length)).isEqualTo(B);
  }

  @Test
  void fetchAllInBackground_corruptChunk_isNotCachedAndTheReadFails() throws Exception {
    byte[] blob = blob(List.of());
    EstargzLayer clean = open(blob);
    FileChunk second = clean.index().chunks("d/a").get(1);
    FileChunk third = clean.index().chunks("d/a").get(2);
    byte[] corrupt = blob.clone();
    System.arraycopy(
        blob,
        (int) third.compressedOffset(),
        corrupt,
        (int) second.compressedOffset(),
        (int) second.compressedLength());
    EstargzLayer layer = open(corrupt);

    assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isFalse();
    int before = fetches.get();
    ByteBuffer third3 = ByteBuffer.allocate(CHUNK);
    layer.read(layer.dataOffset("d/a") + 2 * CHUNK, third3);
    assertThat(fetches).as("the good chunks were cached").hasValue(before);
    assertThatThrownBy(() -> layer.read(layer.dataOffset("d/a") + CHUNK, ByteBuffer.allocate(10)))
        .isInstanceOf(ChunkDigestMismatchException.class);
  }

  @Test
  void fetchAllInBackground_unverifiedToc_checksTheWholeBlobAndThenTrustsTheToc() throws Exception {
    byte[] blob = blob(List.of());
    EstargzLayer layer = open(blob, Digest.sha256(blob), null, servedFrom(blob));
    assertThat(layer.tocTrusted()).isFalse();
    ByteBuffer first = ByteBuffer.allocate(10);
    layer.read(layer.dataOffset("d/b"), first);

    assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isTrue();
    assertThat(layer.tocTrusted()).isTrue();
    assertThat(fetches)
        .as("one read, then the whole blob (under 1 MiB): its chunks, then TOC and footer")
        .hasValue(1 + 2);
    ByteBuffer all = ByteBuffer.allocate((int) layer.uncompressedSize());
    layer.read(0, all);
    assertThat(fetches).as("every chunk came from the cache").hasValue(3);
    long a = layer.dataOffset("d/a");
    assertThat(Arrays.copyOfRange(all.array(), (int) a, (int) a + A.length)).isEqualTo(A);
  }

  @Test
  void fetchAllInBackground_unverifiedTocOfOtherBytes_marksTheLayerBad() throws Exception {
    byte[] real = blob(List.of());
    Path tar = temp.resolve("other.tar");
    byte[] otherA = TestLayers.randomBytes(99, A.length);
    Files.write(
        tar,
        TestLayers.tar()
            .dir("d/")
            .file("d/a", otherA)
            .file("d/empty", new byte[0])
            .file("d/b", B)
            .build()
            .bytes());
    var out = new ByteArrayOutputStream();
    new EstargzWriter(new EstargzWriter.Options(CHUNK, List.of(), Deflater.BEST_SPEED))
        .write(tar, out);
    byte[] lie = out.toByteArray();
    // The manifest names the real layer; the registry answers ranges from another blob, whose TOC
    // and chunk digests agree with each other. Only the whole blob's digest can tell.
    EstargzLayer layer = open(lie, Digest.sha256(real), null, servedFrom(lie));
    ByteBuffer served = ByteBuffer.allocate(CHUNK);
    layer.read(layer.dataOffset("d/a"), served);
    assertThat(served.array()).isEqualTo(Arrays.copyOf(otherA, CHUNK));

    assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isFalse();
    assertThatThrownBy(() -> layer.read(layer.dataOffset("d/a"), ByteBuffer.allocate(10)))
        .isInstanceOf(BadLayerException.class)
        .hasMessageContaining("its blob hashes to " + Digest.sha256(lie))
        .hasMessageContaining(Digest.sha256(real).toString());
    assertThat(layer.tocTrusted()).isFalse();
  }

  @Test
  void fetchAllInBackground_legacyChunkServedWrong_marksTheLayerBadNamingTheChunk()
      throws Exception {
    byte[] tar = TestLayers.tar().withoutEndMarker().dir("d/").file("d/a", A).build().bytes();
    byte[] blob = LegacyStargz.of(tar, CHUNK, false).blob();
    EstargzLayer clean = open(blob, Digest.sha256(blob), null, servedFrom(blob));
    FileChunk second = clean.index().chunks("d/a").get(1);
    FileChunk third = clean.index().chunks("d/a").get(2);
    assertThat(second.digest()).as("legacy stargz: no chunk digests").isNull();
    assertThat(third.compressedLength()).isEqualTo(second.compressedLength());
    byte[] thirdMember =
        Arrays.copyOfRange(blob, (int) third.compressedOffset(), (int) third.compressedEnd());
    // The registry answers the first request for chunk 1 with chunk 2's member: nothing can tell
    // at the read, since the TOC has no digest for it.
    var lied = new java.util.concurrent.atomic.AtomicBoolean();
    CompressedBytes lying =
        (offset, length) -> {
          fetches.incrementAndGet();
          if (offset == second.compressedOffset() && !lied.getAndSet(true)) {
            return thirdMember.clone();
          }
          return Arrays.copyOfRange(blob, (int) offset, (int) offset + length);
        };
    EstargzLayer layer = open(blob, Digest.sha256(blob), null, lying);
    ByteBuffer served = ByteBuffer.allocate(10);
    layer.read(layer.dataOffset("d/a") + CHUNK, served);
    assertThat(served.array()).isEqualTo(Arrays.copyOfRange(A, 2 * CHUNK, 2 * CHUNK + 10));

    assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isFalse();
    assertThatThrownBy(() -> layer.read(0, ByteBuffer.allocate(10)))
        .isInstanceOf(BadLayerException.class)
        .hasMessageContaining("chunk 1 (file bytes " + CHUNK)
        .hasMessageContaining(
            "the cache holds bytes hashing to "
                + Digest.sha256(Arrays.copyOfRange(A, 2 * CHUNK, 3 * CHUNK)))
        .hasMessageContaining(
            "the layer's own bytes hash to "
                + Digest.sha256(Arrays.copyOfRange(A, CHUNK, 2 * CHUNK)));
  }

  @Test
  void fetchAllInBackground_honestLegacyLayer_trustsItAndChecksRefetchedChunks() throws Exception {
    byte[] tar = TestLayers.tar().withoutEndMarker().dir("d/").file("d/a", A).build().bytes();
    byte[] blob = LegacyStargz.of(tar, CHUNK, false).blob();
    EstargzLayer layer = open(blob, Digest.sha256(blob), null, servedFrom(blob));

    assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isTrue();
    assertThat(layer.tocTrusted()).isTrue();
    ByteBuffer all = ByteBuffer.allocate(A.length);
    layer.read(layer.dataOffset("d/a"), all);
    assertThat(all.array()).isEqualTo(A);
  }
}
