package dev.lazypull.estargz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TocTest {
  private static byte[] json(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void parse_unknownFieldsAndBase64Xattrs_readsTheKnownOnes() throws Exception {
    Toc toc =
        Toc.parse(
            json(
                """
                {"version":1,"entries":[{"name":"./a","type":"reg","size":3,"NumLink":2,
                "xattrs":{"user.k":"dmFsdWU="},"offset":10,"chunkDigest":"sha256:x",
                "somethingNew":{"nested":true}}]}"""));

    TocEntry entry = toc.entries().getFirst();
    assertThat(entry.cleanName()).isEqualTo("a");
    assertThat(entry.size()).isEqualTo(3);
    assertThat(entry.xattrs()).containsKey("user.k");
    assertThat(new String(entry.xattrs().get("user.k"), StandardCharsets.UTF_8)).isEqualTo("value");
  }

  @Test
  void parse_otherVersionOrNotJson_refused() {
    assertThatThrownBy(() -> Toc.parse(json("{\"version\":2,\"entries\":[]}")))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("version 2");
    assertThatThrownBy(() -> Toc.parse(json("{\"version\":1,")))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("not valid eStargz TOC JSON");
  }

  @Test
  void parse_wrongTypeOrNoName_refusedNamingTheField() {
    assertThatThrownBy(
            () -> Toc.parse(json("{\"version\":1,\"entries\":[{\"name\":\"a\",\"size\":\"3\"}]}")))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("size is");
    assertThatThrownBy(() -> Toc.parse(json("{\"version\":1,\"entries\":[{\"type\":\"reg\"}]}")))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("has no name");
  }

  @Test
  void parse_nullsAndUnknownArrays_readAsAbsent() throws Exception {
    Toc toc =
        Toc.parse(
            json(
                """
                {"future":[1,{"x":[]}],"version":1,"entries":[{"name":"a","type":"reg",
                "linkName":null,"size":null,"xattrs":{"user.a":null},"extra":[[]]}]}"""));

    TocEntry entry = toc.entries().getFirst();
    assertThat(entry.linkName()).isNull();
    assertThat(entry.size()).isZero();
    assertThat(entry.xattrs()).isEmpty();
  }

  @Test
  void toJson_defaultsLeftOutAndXattrsInBase64_parsesBack() throws Exception {
    var entry =
        new TocEntry(
            "etc/",
            "dir",
            0,
            "2023-11-14T22:13:20Z",
            null,
            0755,
            0,
            0,
            null,
            null,
            0,
            0,
            0,
            0,
            Map.of("user.k", "value".getBytes(StandardCharsets.UTF_8)),
            null,
            0,
            0,
            null);
    byte[] bytes = new Toc(1, java.util.List.of(entry)).toJson();
    String text = new String(bytes, StandardCharsets.UTF_8);

    assertThat(text).contains("\"dmFsdWU=\"").doesNotContain("uid").doesNotContain("linkName");
    assertThat(Toc.parse(bytes).entries().getFirst().mode()).isEqualTo(0755);
  }

  @Test
  void index_nameWithReplacementCharacter_servedAsItStands() throws Exception {
    Toc toc =
        Toc.parse(
            json(
                """
                {"version":1,"entries":[{"name":"caf\uFFFD/","type":"dir"},
                {"name":"caf\uFFFD/x","type":"reg","size":0}]}"""));

    EstargzIndex index = EstargzIndex.of(toc, 100);

    assertThat(index.entry("caf\uFFFD/x")).isNotNull();
  }

  @Test
  void index_replacementCharacterNameTwice_refusedAsAmbiguous() throws Exception {
    // What Go's encoding/json makes of two files named caf\xe9 and caf\xe8: one name, twice.
    Toc toc =
        Toc.parse(
            json(
                """
                {"version":1,"entries":[{"name":"caf\uFFFD","type":"reg","size":0},
                {"name":"caf\uFFFD","type":"reg","size":0}]}"""));

    assertThatThrownBy(() -> EstargzIndex.of(toc, 100))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("names caf\uFFFD twice")
        .hasMessageContaining("refusing to guess");
  }

  @Test
  void index_chunkWithoutDigest_refusedUnlessUndigestedChunksAllowed() throws Exception {
    // A legacy stargz TOC: no chunkDigest; a file in one chunk with its file digest, one without.
    Toc toc =
        Toc.parse(
            json(
                """
                {"version":1,"entries":[
                {"name":"one","type":"reg","size":3,"offset":10,"digest":"sha256:%s"},
                {"name":"two","type":"reg","size":4,"offset":50,"chunkSize":2},
                {"name":"two","type":"chunk","offset":60,"chunkOffset":2,"chunkSize":2}]}"""
                    .formatted("ab".repeat(32))));

    assertThatThrownBy(() -> EstargzIndex.of(toc, 100))
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("TOC chunk of two at file offset 0 has no chunkDigest");
    EstargzIndex index = EstargzIndex.of(toc, 100, true);
    assertThat(index.chunks("one").getFirst().digest())
        .as("a file in one chunk is checked by the file's digest")
        .hasToString("sha256:" + "ab".repeat(32));
    assertThat(index.chunks("two")).extracting(FileChunk::digest).containsExactly(null, null);
  }

  @Test
  void cleanName_prefixesAndTrailingSlashes_removed() {
    assertThat(TocEntry.cleanName("./")).isEmpty();
    assertThat(TocEntry.cleanName("./usr/bin/")).isEqualTo("usr/bin");
    assertThat(TocEntry.cleanName("/etc/passwd")).isEqualTo("etc/passwd");
  }

  @Test
  void footer_encodeDecode_roundTripsAndIs51Bytes() throws Exception {
    byte[] footer = Footer.encode(0x1234abcdL);

    assertThat(footer).hasSize(Footer.SIZE);
    assertThat(Footer.decode(footer)).isEqualTo(new Footer.Found(0x1234abcdL, Footer.SIZE));
    assertThat(
            new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(footer))
                .readAllBytes())
        .as("the footer is an empty gzip member any gunzip reads")
        .isEmpty();
  }

  @Test
  void footer_upperCaseHexOrNoMagic_refused() {
    byte[] upper = Footer.encode(0xabcL);
    for (int i = 16; i < 32; i++) {
      upper[i] = (byte) Character.toUpperCase(upper[i]);
    }
    assertThatThrownBy(() -> Footer.decode(upper)).isInstanceOf(EstargzException.class);
    byte[] noMagic = Footer.encode(1);
    noMagic[33] = 'X';
    assertThatThrownBy(() -> Footer.decode(noMagic)).isInstanceOf(EstargzException.class);
  }
}
