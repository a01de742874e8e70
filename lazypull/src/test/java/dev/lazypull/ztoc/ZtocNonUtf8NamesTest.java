package dev.lazypull.ztoc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.tar.TarEntryType;
import dev.lazypull.testing.TestLayers;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tar names and link targets that are not UTF-8 keep their exact bytes through a zTOC. */
class ZtocNonUtf8NamesTest {

  /** "caf\xe9.txt": Latin-1, not UTF-8. */
  private static final byte[] LATIN1_NAME = {'c', 'a', 'f', (byte) 0xe9, '.', 't', 'x', 't'};

  /** A second invalid name whose lossy text equals the first one's: only bytes tell them apart. */
  private static final byte[] OTHER_NAME = {'c', 'a', 'f', (byte) 0xff, '.', 't', 'x', 't'};

  private static final byte[] LINK_TARGET = {'.', '.', '/', (byte) 0xc3, (byte) 0x28, 'x'};

  private static byte[] bytes(String ascii) {
    return ascii.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** A long (over 100 bytes) name that is not UTF-8, so it travels in a GNU or PAX record. */
  private static byte[] longName() {
    return concat(bytes("d/" + "x".repeat(120) + "-"), LATIN1_NAME);
  }

  static byte[] layer(TestLayers.LongNames style) {
    var tar = TestLayers.tar().longNames(style).dir("d/");
    tar.add(concat(bytes("d/"), LATIN1_NAME), '0').data(bytes("latin-1 named\n"));
    tar.add(concat(bytes("d/"), OTHER_NAME), '0').data(bytes("the other one\n"));
    tar.add(bytes("d/link"), '2').linkTo(LINK_TARGET);
    tar.add(concat(bytes("d/long-link-"), OTHER_NAME), '2').linkTo(longName());
    tar.add(longName(), '0').data(bytes("long\n"));
    tar.file("d/café-utf8.txt", "utf-8 named\n");
    return TestLayers.gzip(tar.build().bytes());
  }

  private static Ztoc build(byte[] layer) throws Exception {
    return new ZtocBuilder(1 << 16, "lazypull test")
        .build(new ByteArrayInputStream(layer), "non-utf8 layer");
  }

  private static List<byte[]> names(Ztoc ztoc) {
    return ztoc.files().stream().map(FileMetadata::nameBytes).toList();
  }

  @Test
  void buildEncodeDecode_gnuLongNames_keepsExactNameAndLinkBytes() throws Exception {
    assertRoundTripsExactly(TestLayers.LongNames.GNU);
  }

  @Test
  void buildEncodeDecode_paxLongNames_keepsExactNameAndLinkBytes() throws Exception {
    assertRoundTripsExactly(TestLayers.LongNames.PAX);
  }

  private static void assertRoundTripsExactly(TestLayers.LongNames style) throws Exception {
    Ztoc built = build(layer(style));

    Ztoc decoded = ZtocCodec.decode(ZtocCodec.encode(built), "re-read");

    for (Ztoc ztoc : List.of(built, decoded)) {
      assertThat(names(ztoc))
          .containsExactly(
              bytes("d/"),
              concat(bytes("d/"), LATIN1_NAME),
              concat(bytes("d/"), OTHER_NAME),
              bytes("d/link"),
              concat(bytes("d/long-link-"), OTHER_NAME),
              longName(),
              "d/café-utf8.txt".getBytes(StandardCharsets.UTF_8));
      assertThat(ztoc.files().get(3).type()).isEqualTo(TarEntryType.SYMLINK);
      assertThat(ztoc.files().get(3).linkNameBytes()).isEqualTo(LINK_TARGET);
      assertThat(ztoc.files().get(4).linkNameBytes()).isEqualTo(longName());
    }
    assertThat(decoded.files()).isEqualTo(built.files());
  }

  @Test
  void find_bytesOrUtf8Text_findsExactlyThatName() throws Exception {
    Ztoc ztoc = ZtocCodec.decode(ZtocCodec.encode(build(layer(TestLayers.LongNames.GNU))), "z");

    assertThat(ztoc.find(concat(bytes("/d/"), OTHER_NAME)).orElseThrow().uncompressedSize())
        .isEqualTo(14);
    assertThat(ztoc.find(concat(bytes("d/"), LATIN1_NAME)).orElseThrow().nameBytes())
        .isEqualTo(concat(bytes("d/"), LATIN1_NAME));
    assertThat(ztoc.find("/d/café-utf8.txt")).isPresent();
    // The lossy text of both invalid names is "d/caf\uFFFD.txt"; it must match neither.
    assertThat(ztoc.find("d/caf\uFFFD.txt")).isEmpty();
  }

  @Test
  void extract_nonUtf8NamedFile_givesItsData() throws Exception {
    byte[] layer = layer(TestLayers.LongNames.PAX);
    Ztoc ztoc = build(layer);
    var extractor = new SpanExtractor(ztoc, new ByteArrayRangeSource(layer), "non-utf8 layer");
    var out = new ByteArrayOutputStream();

    extractor.extractFile(ztoc.find(longName()).orElseThrow(), out);

    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("long\n");
  }

  @Test
  void fileMetadata_equalsAndHashCode_compareNameBytes() {
    var a =
        FileMetadata.ofText(
            "a", TarEntryType.REGULAR, 0, 0, "", 0644, 0, 0, "", "", "t", 0, 0, List.of());
    var same =
        FileMetadata.ofText(
            "a", TarEntryType.REGULAR, 0, 0, "", 0644, 0, 0, "", "", "t", 0, 0, List.of());
    var other =
        FileMetadata.ofText(
            "b", TarEntryType.REGULAR, 0, 0, "", 0644, 0, 0, "", "", "t", 0, 0, List.of());

    assertThat(a).isEqualTo(same).hasSameHashCodeAs(same).isNotEqualTo(other);
    assertThat(a.nameBytes()).isNotSameAs(a.nameBytes());
  }

  @Test
  void textOrHex_invalidUtf8OrHexPrefix_isEscapedAndParsesBack() {
    assertThat(ByteText.textOrHex(LATIN1_NAME)).isEqualTo("hex:636166e92e747874");
    assertThat(ByteText.textOrHex(bytes("hex:41"))).isEqualTo("hex:6865783a3431");
    assertThat(ByteText.textOrHex(bytes("plain/é"))).isEqualTo("plain/é");
    for (byte[] b :
        List.of(LATIN1_NAME, bytes("hex:41"), "plain/é".getBytes(StandardCharsets.UTF_8))) {
      assertThat(ByteText.parse(ByteText.textOrHex(b))).isEqualTo(b);
    }
  }
}
