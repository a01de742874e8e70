package dev.lazypull.estargz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lazypull.oci.Digest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

class EstargzReaderTest {
  static final List<String> LAYERS = ReferenceLayers.NAMES;

  @ParameterizedTest
  @FieldSource("LAYERS")
  void open_referenceLayer_verifiesTocAndReadsEveryFile(String layer) throws Exception {
    byte[] blob = ReferenceLayers.blob(layer);
    JsonNode expected = ReferenceLayers.expected(layer);
    var reads = new AtomicInteger();
    BlobBytes counted =
        (offset, length) -> {
          reads.incrementAndGet();
          return ReferenceLayers.bytesOf(blob).read(offset, length);
        };

    var reader =
        EstargzReader.open(counted, blob.length, ReferenceLayers.tocDigest(layer), false, layer);

    assertThat(reads).as("footer and TOC in one ranged read of the tail").hasValue(1);
    assertThat(reader.tocDigest()).isEqualTo(ReferenceLayers.tocDigest(layer));
    Map<String, String> actualTypes = new TreeMap<>();
    reader.index().entries().forEach((name, entry) -> actualTypes.put(name, entry.type()));
    Map<String, String> expectedTypes = new TreeMap<>();
    expected
        .get("files")
        .properties()
        .forEach(
            file -> {
              String name = file.getKey().equals(".") ? "" : file.getKey();
              String type = file.getValue().get("type").asText();
              expectedTypes.put(name, type.equals("file") ? "reg" : type);
            });
    actualTypes.keySet().removeIf(EstargzIndex::isFormatEntry);
    assertThat(actualTypes).isEqualTo(expectedTypes);

    int files = 0;
    for (var file : expected.get("files").properties()) {
      JsonNode want = file.getValue();
      if (want.get("type").asText().equals("file")) {
        byte[] data = reader.readFile(file.getKey());
        assertThat(data).hasSize(want.get("size").asInt());
        assertThat(Digest.sha256(data).hex()).isEqualTo(want.get("sha256").asText());
        files++;
      } else if (want.has("link")) {
        assertThat(reader.index().entry(file.getKey()).linkName())
            .isEqualTo(want.get("link").asText());
      }
    }
    assertThat(files).isGreaterThan(5);
  }

  @Test
  void chunks_chunk64kLayer_splitsLargeFilesIntoContiguousChunks() throws Exception {
    byte[] blob = ReferenceLayers.blob("small-text-chunk64k");
    var reader =
        EstargzReader.open(
            ReferenceLayers.bytesOf(blob),
            blob.length,
            ReferenceLayers.tocDigest("small-text-chunk64k"),
            false,
            "chunk64k");
    List<FileChunk> chunks = reader.index().chunks("docs/file02.md");
    assertThat(chunks).hasSize((221177 + 65535) / 65536);
    assertThat(chunks.getLast().fileOffset() + chunks.getLast().size()).isEqualTo(221177);
  }

  @Test
  void open_prioritizedLayer_findsPrefetchLandmarkAfterStartupFiles() throws Exception {
    byte[] blob = ReferenceLayers.blob("small-text-prioritized");
    var reader =
        EstargzReader.open(
            ReferenceLayers.bytesOf(blob),
            blob.length,
            ReferenceLayers.tocDigest("small-text-prioritized"),
            false,
            "prioritized");
    long end = reader.index().prefetchEnd();
    assertThat(end).isPositive();
    assertThat(reader.index().chunks("docs/file06.md").getFirst().compressedEnd()).isLessThan(end);
    assertThat(reader.index().chunks("docs/file02.md").getFirst().compressedEnd())
        .isLessThanOrEqualTo(end);
    assertThat(reader.index().chunks("docs/file10.md").getFirst().compressedOffset())
        .isGreaterThan(end);
  }

  @Test
  void open_legacyFooter_readsTheToc() throws Exception {
    byte[] blob = ReferenceLayers.blob("mixed-binary");
    long tocOffset = Footer.decode(blob).tocOffset();
    byte[] legacy = concat(Arrays.copyOf(blob, blob.length - Footer.SIZE), legacyFooter(tocOffset));

    var reader =
        EstargzReader.open(
            ReferenceLayers.bytesOf(legacy),
            legacy.length,
            ReferenceLayers.tocDigest("mixed-binary"),
            false,
            "legacy");

    assertThat(reader.readFile("etc/conf.d/part0.txt")).hasSize(149270);
  }

  private static final byte[] LEGACY_BIG = dev.lazypull.testing.TestLayers.randomBytes(31, 50_000);
  private static final byte[] LEGACY_SMALL = "small file\n".getBytes(StandardCharsets.UTF_8);

  private static dev.lazypull.testing.LegacyStargz.Layer legacyLayer(boolean fileDigests) {
    byte[] tar =
        dev.lazypull.testing.TestLayers.tar()
            .withoutEndMarker()
            .dir("d/")
            .file("d/big", LEGACY_BIG)
            .file("d/small", LEGACY_SMALL)
            .symlink("d/link", "small")
            .build()
            .bytes();
    return dev.lazypull.testing.LegacyStargz.of(tar, 16 << 10, fileDigests);
  }

  @Test
  void open_legacyStargzLayer_readsThe47ByteFooterAndFilesWithoutChunkDigests() throws Exception {
    var legacy = legacyLayer(false);
    var reads = new AtomicInteger();
    BlobBytes counted =
        (offset, length) -> {
          reads.incrementAndGet();
          return ReferenceLayers.bytesOf(legacy.blob()).read(offset, length);
        };

    var reader = EstargzReader.open(counted, legacy.blob().length, null, true, "legacy");

    assertThat(reads).as("footer and TOC in one ranged read of the tail").hasValue(1);
    assertThat(reader.legacyFooter()).isTrue();
    assertThat(reader.tocVerified()).isFalse();
    assertThat(reader.tocDigest()).isEqualTo(Digest.sha256(legacy.tocJson()));
    assertThat(reader.index().chunks("d/big")).hasSize(4).allMatch(c -> c.digest() == null);
    assertThat(reader.readFile("d/big")).isEqualTo(LEGACY_BIG);
    assertThat(reader.readFile("d/small")).isEqualTo(LEGACY_SMALL);
    assertThat(reader.index().entry("d/link").linkName()).isEqualTo("small");
  }

  @Test
  void open_legacyStargzLayerWithoutSkipVerify_refusedNamingTheAnnotation() throws Exception {
    var legacy = legacyLayer(false);

    assertThatThrownBy(
            () ->
                EstargzReader.open(
                    ReferenceLayers.bytesOf(legacy.blob()),
                    legacy.blob().length,
                    null,
                    false,
                    "legacy"))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining(EstargzReader.TOC_DIGEST_ANNOTATION);
  }

  @Test
  void readChunk_legacyFileInOneChunkWithFileDigest_isCheckedAgainstIt() throws Exception {
    var legacy = legacyLayer(true);
    var reader0 =
        EstargzReader.open(
            ReferenceLayers.bytesOf(legacy.blob()), legacy.blob().length, null, true, "L");
    FileChunk small = reader0.index().chunks("d/small").getFirst();
    assertThat(small.digest()).isEqualTo(Digest.sha256(LEGACY_SMALL));
    // The same member, gzip of other bytes of the same length: valid gzip, the wrong content.
    byte[] corrupt = legacy.blob().clone();
    byte[] other =
        dev.lazypull.testing.TestLayers.gzip("SMALL FILE\n".getBytes(StandardCharsets.UTF_8));
    assertThat(other.length).isLessThanOrEqualTo((int) small.compressedLength());
    System.arraycopy(other, 0, corrupt, (int) small.compressedOffset(), other.length);
    var reader =
        EstargzReader.open(ReferenceLayers.bytesOf(corrupt), corrupt.length, null, true, "L");

    assertThatThrownBy(() -> reader.readChunk(small))
        .isInstanceOf(ChunkDigestMismatchException.class)
        .hasMessageContaining(Digest.sha256(LEGACY_SMALL).toString());
  }

  @Test
  void open_wrongTocDigest_refusedNamingBothDigests() throws Exception {
    byte[] blob = ReferenceLayers.blob("mixed-binary");
    Digest wrong = Digest.sha256(new byte[] {1});

    assertThatThrownBy(
            () -> EstargzReader.open(ReferenceLayers.bytesOf(blob), blob.length, wrong, false, "L"))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining(wrong.toString())
        .hasMessageContaining(ReferenceLayers.tocDigest("mixed-binary").toString());
  }

  @Test
  void open_corruptTocBytes_refused() throws Exception {
    byte[] blob = ReferenceLayers.blob("mixed-binary");
    long tocOffset = Footer.decode(blob).tocOffset();
    byte[] corrupt = blob.clone();
    corrupt[(int) tocOffset + 40] ^= 0x55;

    assertThatThrownBy(
            () ->
                EstargzReader.open(
                    ReferenceLayers.bytesOf(corrupt),
                    corrupt.length,
                    ReferenceLayers.tocDigest("mixed-binary"),
                    false,
                    "L"))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("layer L");
  }

  @Test
  void open_tocRewrittenWithoutMatchingDigest_refused() throws Exception {
    byte[] blob = ReferenceLayers.blob("mixed-binary");
    byte[] rewritten =
        withToc(blob, json -> json.replaceFirst("\"mode\":\\s*420", "\"mode\": 511"));
    assertThat(tocJsonOf(rewritten)).isNotEqualTo(tocJsonOf(blob));

    assertThatThrownBy(
            () ->
                EstargzReader.open(
                    ReferenceLayers.bytesOf(rewritten),
                    rewritten.length,
                    ReferenceLayers.tocDigest("mixed-binary"),
                    false,
                    "L"))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("refusing the corrupt or substituted TOC");
  }

  @Test
  void open_footerPastBlob_refused() throws Exception {
    byte[] blob = ReferenceLayers.blob("mixed-binary");
    byte[] broken =
        concat(Arrays.copyOf(blob, blob.length - Footer.SIZE), Footer.encode(blob.length + 10L));

    assertThatThrownBy(
            () ->
                EstargzReader.open(
                    ReferenceLayers.bytesOf(broken),
                    broken.length,
                    ReferenceLayers.tocDigest("mixed-binary"),
                    false,
                    "L"))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("footer puts the TOC at offset " + (blob.length + 10L));
  }

  @Test
  void open_noFooter_refused() throws Exception {
    byte[] notEstargz = new byte[4096];
    assertThatThrownBy(
            () ->
                EstargzReader.open(
                    ReferenceLayers.bytesOf(notEstargz),
                    notEstargz.length,
                    Digest.sha256(new byte[0]),
                    false,
                    "L"))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("not an eStargz layer");
  }

  @Test
  void open_withoutTocDigest_refusedUnlessSkipVerify() throws Exception {
    byte[] blob = ReferenceLayers.blob("mixed-binary");
    BlobBytes bytes = ReferenceLayers.bytesOf(blob);

    assertThatThrownBy(() -> EstargzReader.open(bytes, blob.length, null, false, "L"))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining(EstargzReader.TOC_DIGEST_ANNOTATION);
    assertThat(EstargzReader.open(bytes, blob.length, null, true, "L").tocDigest())
        .isEqualTo(ReferenceLayers.tocDigest("mixed-binary"));
  }

  @Test
  void readChunk_bytesNotMatchingChunkDigest_refusedNamingChunkAndBothDigests() throws Exception {
    byte[] blob = ReferenceLayers.blob("small-text-chunk64k");
    var reader0 =
        EstargzReader.open(
            ReferenceLayers.bytesOf(blob),
            blob.length,
            ReferenceLayers.tocDigest("small-text-chunk64k"),
            false,
            "L");
    FileChunk target = reader0.index().chunks("docs/file02.md").get(1);
    String wrong = "sha256:" + "ab".repeat(32);
    byte[] rewritten = withToc(blob, json -> json.replace(target.digest().toString(), wrong));
    byte[] tocJson = tocJsonOf(rewritten);
    var reader =
        EstargzReader.open(
            ReferenceLayers.bytesOf(rewritten),
            rewritten.length,
            Digest.sha256(tocJson),
            false,
            "L");

    assertThatThrownBy(() -> reader.copyFile("docs/file02.md", new ByteArrayOutputStream()))
        .isInstanceOf(ChunkDigestMismatchException.class)
        .hasMessageContaining("chunk 1 (file bytes 65536-131072")
        .hasMessageContaining("docs/file02.md")
        .hasMessageContaining(wrong)
        .hasMessageContaining(target.digest().toString());
  }

  @Test
  void readChunk_corruptCompressedBytes_refusedNamingChunk() throws Exception {
    byte[] blob = ReferenceLayers.blob("mixed-binary");
    var reader0 =
        EstargzReader.open(
            ReferenceLayers.bytesOf(blob),
            blob.length,
            ReferenceLayers.tocDigest("mixed-binary"),
            false,
            "L");
    FileChunk chunk = reader0.index().chunks("etc/conf.d/part1.txt").getFirst();
    byte[] corrupt = blob.clone();
    corrupt[(int) (chunk.compressedOffset() + chunk.compressedLength() / 2)] ^= 0x10;
    var reader =
        EstargzReader.open(
            ReferenceLayers.bytesOf(corrupt),
            corrupt.length,
            ReferenceLayers.tocDigest("mixed-binary"),
            false,
            "L");

    assertThatThrownBy(() -> reader.readChunk(chunk))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("chunk 0 (file bytes 0-80691")
        .hasMessageContaining("etc/conf.d/part1.txt");
  }

  /** The blob with its TOC JSON edited and a new TOC member and footer. */
  static byte[] withToc(byte[] blob, java.util.function.UnaryOperator<String> edit)
      throws Exception {
    long tocOffset = Footer.decode(blob).tocOffset();
    String json = new String(tocJsonOf(blob), java.nio.charset.StandardCharsets.UTF_8);
    byte[] edited = edit.apply(json).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    var out = new ByteArrayOutputStream();
    out.write(blob, 0, (int) tocOffset);
    var gz = new GzipMembers(out, 6);
    gz.write(TarHeaderBlock.regularFile(Toc.TAR_NAME, edited.length, 0444));
    gz.write(edited);
    gz.write(new byte[TarHeaderBlock.padding(edited.length) + 1024]);
    gz.endMember();
    out.write(Footer.encode(tocOffset));
    return out.toByteArray();
  }

  static byte[] tocJsonOf(byte[] blob) throws Exception {
    long tocOffset = Footer.decode(blob).tocOffset();
    return EstargzReader.tocJson(
        Arrays.copyOfRange(blob, (int) tocOffset, blob.length - Footer.SIZE), "test");
  }

  private static byte[] legacyFooter(long tocOffset) {
    byte[] footer = new byte[Footer.LEGACY_SIZE];
    byte[] head = {0x1f, (byte) 0x8b, 8, 4, 0, 0, 0, 0, 0, (byte) 0xff, 22, 0};
    System.arraycopy(head, 0, footer, 0, head.length);
    byte[] payload =
        (String.format("%016x", tocOffset) + "STARGZ")
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    System.arraycopy(payload, 0, footer, 12, 22);
    byte[] empty = {1, 0, 0, (byte) 0xff, (byte) 0xff};
    System.arraycopy(empty, 0, footer, 34, 5);
    return footer;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
