package dev.lazypull.ztoc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.tar.TarEntryType;
import dev.lazypull.testing.TestLayers;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The builder and extractor on layers generated in code. */
class ZtocBuilderTest {

  private static final long SPAN = 64 << 10;

  /** A binary xattr value (not valid UTF-8), like a real file capability. */
  private static final byte[] CAPABILITY = {1, 0, 0, 2, (byte) 0x80, (byte) 0xff, 0, '\n'};

  /** About 3 MB of mixed files: many spans at a 64 KiB span size. */
  static TestLayers.Tar mixedTar() {
    var builder = TestLayers.tar().dir("data/");
    for (int i = 0; i < 12; i++) {
      builder.file("data/text-" + i, TestLayers.textBytes(i, 20_000 + i * 17_000));
      builder.file("data/random-" + i, TestLayers.randomBytes(i, 5_000 + i * 9_000));
    }
    builder.file("data/zeros", new byte[700_000]);
    builder.file("data/many-spans", TestLayers.textBytes(99, 900_000));
    builder.file("data/empty", new byte[0]);
    builder.symlink("data/link", "text-1").hardlink("data/hard", "data/text-2");
    return builder.build();
  }

  private static Ztoc build(byte[] layer, long spanSize) throws Exception {
    return new ZtocBuilder(spanSize, "lazypull test")
        .build(new ByteArrayInputStream(layer), "test-layer");
  }

  private static byte[] extract(SpanExtractor extractor, long offset, long length)
      throws Exception {
    var out = new ByteArrayOutputStream();
    extractor.extract(offset, length, out);
    return out.toByteArray();
  }

  private static void assertEveryFileExtracts(Ztoc ztoc, byte[] layer, byte[] tar)
      throws Exception {
    var extractor = new SpanExtractor(ztoc, new ByteArrayRangeSource(layer), "test-layer");
    for (FileMetadata file : ztoc.files()) {
      var out = new ByteArrayOutputStream();
      Extraction extraction = extractor.extractFile(file, out);
      byte[] expected =
          Arrays.copyOfRange(tar, (int) file.uncompressedOffset(), (int) file.uncompressedEnd());
      assertThat(out.toByteArray()).as(file.name()).isEqualTo(expected);
      assertThat(extraction.compressedBytesRead()).isLessThanOrEqualTo(layer.length);
    }
  }

  @Test
  void build_gzipLayer_everyFileExtractsToItsSourceBytes() throws Exception {
    byte[] tar = mixedTar().bytes();
    byte[] layer = TestLayers.gzip(tar);

    Ztoc ztoc = build(layer, SPAN);

    assertThat(ztoc.spanCount()).isGreaterThan(20);
    assertThat(ztoc.uncompressedArchiveSize()).isEqualTo(tar.length);
    assertThat(ztoc.compressedArchiveSize()).isEqualTo(layer.length);
    assertEveryFileExtracts(ztoc, layer, tar);
  }

  @Test
  void build_gzipLayer_tocMatchesTheTar() throws Exception {
    TestLayers.Tar tar = mixedTar();

    Ztoc ztoc = build(TestLayers.gzip(tar.bytes()), SPAN);

    for (FileMetadata file : ztoc.files()) {
      if (file.type() == TarEntryType.REGULAR) {
        assertThat(file.uncompressedOffset()).isEqualTo(tar.dataOffset(file.name()));
      }
    }
    FileMetadata link = ztoc.find("/data/link").orElseThrow();
    assertThat(link.type()).isEqualTo(TarEntryType.SYMLINK);
    assertThat(link.linkName()).isEqualTo("text-1");
    assertThat(ztoc.find("data/hard").orElseThrow().type()).isEqualTo(TarEntryType.HARDLINK);
    assertThat(link.modTime()).isEqualTo("2023-11-14T22:13:20Z");
  }

  @Test
  void extract_rangesTouchingEveryCheckpoint_areExact() throws Exception {
    byte[] tar = mixedTar().bytes();
    byte[] layer = TestLayers.gzip(tar);
    Ztoc ztoc = build(layer, SPAN);
    var extractor = new SpanExtractor(ztoc, new ByteArrayRangeSource(layer), "test-layer");

    for (int i = 1; i < ztoc.spanCount(); i++) {
      long boundary = ztoc.span(i).uncompressedStart();
      assertThat(extract(extractor, boundary - 100, 100))
          .isEqualTo(Arrays.copyOfRange(tar, (int) boundary - 100, (int) boundary));
      assertThat(extract(extractor, boundary, 100))
          .isEqualTo(Arrays.copyOfRange(tar, (int) boundary, (int) boundary + 100));
    }
  }

  @Test
  void extract_fileSpanningManySpans_readsOnlyThoseSpans() throws Exception {
    byte[] tar = mixedTar().bytes();
    byte[] layer = TestLayers.gzip(tar);
    Ztoc ztoc = build(layer, SPAN);
    FileMetadata big = ztoc.find("data/many-spans").orElseThrow();

    Extraction extraction =
        new SpanExtractor(ztoc, new ByteArrayRangeSource(layer), "test-layer")
            .extractFile(big, new ByteArrayOutputStream());

    assertThat(extraction.lastSpan() - extraction.firstSpan()).isGreaterThan(5);
    assertThat(extraction.compressedBytesRead())
        .isEqualTo(
            ztoc.span(extraction.lastSpan()).compressedEnd()
                - ztoc.span(extraction.firstSpan()).compressedStart())
        .isLessThan(layer.length);
  }

  @Test
  void extract_corruptedSpan_failsWithDigestErrorBeforeUsingIt() throws Exception {
    byte[] tar = mixedTar().bytes();
    byte[] layer = TestLayers.gzip(tar);
    Ztoc ztoc = build(layer, SPAN);
    Span span = ztoc.span(3);
    byte[] corrupted = layer.clone();
    corrupted[(int) (span.compressedStart() + span.compressedLength() / 2)] ^= 0x55;
    var extractor = new SpanExtractor(ztoc, new ByteArrayRangeSource(corrupted), "test-layer");

    assertThatThrownBy(() -> extractor.decompressSpan(3))
        .isInstanceOf(SpanDigestMismatchException.class)
        .hasMessageContaining("span 3 of layer test-layer")
        .hasMessageContaining(span.digest().toString());
    assertThat(extract(extractor, ztoc.span(2).uncompressedStart(), 10)).hasSize(10);
  }

  @Test
  void build_multiMemberGzip_indexesAllMembers() throws Exception {
    byte[] tar = mixedTar().bytes();
    byte[] layer = TestLayers.gzipMembers(tar, 100_000, 100_512, 1_500_001);

    Ztoc ztoc = build(layer, SPAN);

    assertThat(ztoc.uncompressedArchiveSize()).isEqualTo(tar.length);
    assertEveryFileExtracts(ztoc, layer, tar);
  }

  @Test
  void extract_zeroPaddingBetweenMembers_isSkipped() throws Exception {
    byte[] tar = mixedTar().bytes();
    // Members cut inside spans and near span starts, each followed by padding of varying sizes.
    for (int zeros : new int[] {1, 7, 4096}) {
      byte[] layer = TestLayers.gzipMembersPadded(tar, zeros, 100_000, 100_512, 1_500_001);

      Ztoc ztoc = build(layer, SPAN);

      assertThat(ztoc.uncompressedArchiveSize()).isEqualTo(tar.length);
      assertEveryFileExtracts(ztoc, layer, tar);
      var extractor = new SpanExtractor(ztoc, new ByteArrayRangeSource(layer), "padded");
      assertThat(extract(extractor, 0, tar.length)).as("%d zeros", zeros).isEqualTo(tar);
    }
  }

  @Test
  void build_uncompressedTar_usesTarSpansAndExtracts() throws Exception {
    var builder = TestLayers.tar();
    // Header 512 + data: the second file's data starts exactly at the span boundary.
    builder.file("fill", new byte[(int) SPAN - 1024]);
    builder.file("on-boundary", TestLayers.randomBytes(7, 200_000));
    byte[] tar = builder.build().bytes();

    Ztoc ztoc = build(tar, SPAN);

    assertThat(ztoc.compressionInfo().algorithm()).isEqualTo(CompressionAlgorithm.UNCOMPRESSED);
    assertThat(ztoc.find("on-boundary").orElseThrow().uncompressedOffset()).isEqualTo(SPAN);
    assertThat(ztoc.spanCount()).isEqualTo((int) ((tar.length + SPAN - 1) / SPAN));
    assertEveryFileExtracts(ztoc, tar, tar);
    Ztoc decoded = ZtocCodec.decode(ZtocCodec.encode(ztoc), "tar zTOC");
    assertThat(decoded.compressionInfo().layout()).isEqualTo(ztoc.compressionInfo().layout());
  }

  @Test
  void build_xattrsAndPaxRecords_areStoredSortedAsXattrs() throws Exception {
    var builder = TestLayers.tar();
    builder
        .fileEntry("bin/ping", new byte[10])
        .xattr("security.capability", CAPABILITY)
        .pax("mtime", "1700000000.25");

    Ztoc ztoc = build(TestLayers.gzip(builder.build().bytes()), SPAN);

    FileMetadata ping = ztoc.files().getFirst();
    assertThat(ping.xattrs())
        .containsExactly(
            new Xattr("SCHILY.xattr.security.capability", CAPABILITY),
            Xattr.of("mtime", "1700000000.25"));
    assertThat(ping.xattrs().getFirst().fileXattrName()).isEqualTo("security.capability");
    Ztoc decoded = ZtocCodec.decode(ZtocCodec.encode(ztoc), "xattr zTOC");
    assertThat(decoded.files().getFirst().xattrs()).isEqualTo(ping.xattrs());
    assertThat(ping.modTime()).isEqualTo("2023-11-14T22:13:20.25Z");
  }

  @Test
  void build_sparseFile_isUnindexable() {
    byte[] layer =
        TestLayers.gzip(TestLayers.tar().gnuSparse("disk.img", new byte[10]).build().bytes());

    assertThatThrownBy(() -> build(layer, SPAN))
        .isInstanceOf(UnindexableLayerException.class)
        .hasMessageContaining("sparse file 'disk.img'")
        .hasMessageContaining("fetch the layer whole");
  }

  @Test
  void build_zstdLayer_isUnindexable() {
    byte[] zstd = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0, 0, 0, 0};

    assertThatThrownBy(() -> build(zstd, SPAN))
        .isInstanceOf(UnindexableLayerException.class)
        .hasMessageContaining("zstd");
  }

  @Test
  void build_badInput_failsWithOneLineNamingTheLayer() {
    byte[] layer = TestLayers.gzip(mixedTar().bytes());
    byte[] truncated = Arrays.copyOf(layer, layer.length / 2);
    byte[] corrupt = layer.clone();
    for (int i = 2000; i < 2100; i++) {
      corrupt[i] = (byte) 0xff;
    }
    byte[] trailingGarbage = Arrays.copyOf(layer, layer.length + 3);
    trailingGarbage[layer.length] = 'x';

    for (byte[] bad : List.of(truncated, corrupt, trailingGarbage, "hello world".getBytes())) {
      assertThatThrownBy(() -> build(bad, SPAN))
          .isInstanceOf(ZtocException.class)
          .hasMessageContaining("test-layer")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
  }

  @Test
  void build_zeroPaddingAfterLastMember_isAccepted() throws Exception {
    byte[] tar = TestLayers.tar().file("a", "1").build().bytes();
    byte[] layer = TestLayers.gzip(tar);
    byte[] padded = Arrays.copyOf(layer, layer.length + 512);

    Ztoc ztoc = build(padded, SPAN);

    assertThat(ztoc.compressedArchiveSize()).isEqualTo(padded.length);
    assertEveryFileExtracts(ztoc, padded, tar);
  }
}
