package dev.lazypull.ztoc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lazypull.oci.Digest;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZtocCodecTest {

  @TempDir Path tmp;

  private static Ztoc sociSample() throws Exception {
    return ZtocCodec.decode(ReferenceVectors.bytes("soci-sample.ztoc"), "soci-sample.ztoc");
  }

  @Test
  void decode_sociSample_hasTheValuesItsReadmeStates() throws Exception {
    Ztoc ztoc = sociSample();

    assertThat(ztoc.version()).isEqualTo("0.9");
    assertThat(ztoc.buildToolIdentifier()).isEqualTo("AWS SOCI CLI v0.1");
    assertThat(ztoc.compressedArchiveSize()).isEqualTo(28567944);
    assertThat(ztoc.uncompressedArchiveSize()).isEqualTo(75156480);
    assertThat(ztoc.files()).hasSize(3265);
    assertThat(ztoc.files().stream().filter(f -> f.type().ztocName().equals("reg"))).hasSize(2500);
    assertThat(ztoc.files().stream().filter(f -> f.type().ztocName().equals("dir"))).hasSize(577);
    assertThat(ztoc.files().stream().filter(f -> f.type().ztocName().equals("symlink")))
        .hasSize(184);
    assertThat(ztoc.files().stream().filter(f -> f.type().ztocName().equals("hardlink")))
        .hasSize(4);
    assertThat(ztoc.compressionInfo().algorithm()).isEqualTo(CompressionAlgorithm.GZIP);
    assertThat(ztoc.compressionInfo().maxSpanId()).isEqualTo(17);
    assertThat(ztoc.compressionInfo().layout().spanSize()).isEqualTo(4194304);
    assertThat(ztoc.compressionInfo().layout().encode()).hasSize(590142);
    var checkpoints = ((GzipCheckpoints) ztoc.compressionInfo().layout()).checkpoints();
    assertThat(checkpoints.get(0)).isEqualTo(new Checkpoint(10, 0, 0));
    assertThat(checkpoints.get(3)).isEqualTo(new Checkpoint(5342655, 12632210, 6));
    assertThat(checkpoints.get(17)).isEqualTo(new Checkpoint(28028648, 72117453, 7));
  }

  @Test
  void decode_sociSample_everyEntryMatchesFlatcsJson() throws Exception {
    JsonNode json;
    try (var in =
        new GZIPInputStream(
            new ByteArrayInputStream(ReferenceVectors.bytes("soci-sample.json.gz")))) {
      json = new ObjectMapper().readTree(in);
    }
    Ztoc ztoc = sociSample();

    JsonNode metadata = json.get("toc").get("metadata");
    assertThat(ztoc.files()).hasSize(metadata.size());
    for (int i = 0; i < metadata.size(); i++) {
      assertFileMatches(ztoc.files().get(i), metadata.get(i));
    }
    List<String> digests = new ArrayList<>();
    json.get("compression_info").get("span_digests").forEach(d -> digests.add(d.asText()));
    assertThat(ztoc.compressionInfo().spanDigests())
        .extracting(Digest::toString)
        .containsExactlyElementsOf(digests);
  }

  private static void assertFileMatches(FileMetadata f, JsonNode j) {
    assertThat(f.name()).isEqualTo(j.get("name").asText());
    assertThat(f.type().ztocName()).isEqualTo(j.get("type").asText());
    assertThat(f.uncompressedOffset()).isEqualTo(j.get("uncompressed_offset").asLong());
    assertThat(f.uncompressedSize()).isEqualTo(j.get("uncompressed_size").asLong());
    assertThat(f.linkName()).isEqualTo(j.get("linkname").asText());
    assertThat(f.mode()).isEqualTo(j.get("mode").asLong());
    assertThat(f.uid()).isEqualTo(j.get("uid").asLong());
    assertThat(f.gid()).isEqualTo(j.get("gid").asLong());
    assertThat(f.uname()).isEqualTo(j.get("uname").asText());
    assertThat(f.gname()).isEqualTo(j.get("gname").asText());
    assertThat(f.modTime()).isEqualTo(j.get("mod_time").asText());
    assertThat(f.devMajor()).isEqualTo(j.get("devmajor").asLong());
    assertThat(f.devMinor()).isEqualTo(j.get("devminor").asLong());
    assertThat(f.xattrs()).hasSize(j.get("xattrs").size());
  }

  @Test
  void encode_decode_sociSampleRoundTrips() throws Exception {
    Ztoc ztoc = sociSample();

    Ztoc again = ZtocCodec.decode(ZtocCodec.encode(ztoc), "re-encoded");

    assertThat(again.files()).isEqualTo(ztoc.files());
    assertThat(again.compressionInfo().spanDigests())
        .isEqualTo(ztoc.compressionInfo().spanDigests());
    assertThat(again.compressionInfo().layout().encode())
        .isEqualTo(ztoc.compressionInfo().layout().encode());
    assertThat(again.version()).isEqualTo(ztoc.version());
    assertThat(again.buildToolIdentifier()).isEqualTo(ztoc.buildToolIdentifier());
  }

  @Test
  void encode_repeatedStrings_areWrittenOnceAndFlatcStillReadsEveryEntry() throws Exception {
    Ztoc ztoc = sociSample();
    String modTime = ztoc.files().get(0).modTime();
    assertThat(ztoc.files().stream().filter(f -> f.modTime().equals(modTime)).count())
        .isGreaterThan(1);

    byte[] encoded = ZtocCodec.encode(ztoc);
    Path file = tmp.resolve("shared.ztoc");
    Files.write(file, encoded);
    Path schema = tmp.resolve("ztoc.fbs");
    Files.write(schema, ReferenceVectors.bytes("ztoc.fbs"));
    runFlatc(schema, file, "--strict-json");
    JsonNode metadata =
        new ObjectMapper().readTree(tmp.resolve("shared.json").toFile()).get("toc").get("metadata");

    assertThat(occurrences(encoded, modTime.getBytes(StandardCharsets.UTF_8))).isEqualTo(1);
    assertThat(encoded.length).isLessThan(ReferenceVectors.bytes("soci-sample.ztoc").length);
    assertThat(metadata.size()).isEqualTo(ztoc.files().size());
    for (int i = 0; i < metadata.size(); i++) {
      assertFileMatches(ztoc.files().get(i), metadata.get(i));
    }
  }

  private static int occurrences(byte[] haystack, byte[] needle) {
    int count = 0;
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        count++;
      }
    }
    return count;
  }

  @Test
  void encode_builtZtoc_isReadByFlatcWithTheSociSchema() throws Exception {
    Ztoc ztoc =
        new ZtocBuilder(1 << 20, "lazypull test")
            .build(new ByteArrayInputStream(ReferenceVectors.layer("small-text")), "small-text");
    Path file = tmp.resolve("small.ztoc");
    Files.write(file, ZtocCodec.encode(ztoc));
    Path schema = tmp.resolve("ztoc.fbs");
    Files.write(schema, ReferenceVectors.bytes("ztoc.fbs"));

    runFlatc(schema, file, "--strict-json");
    JsonNode json = new ObjectMapper().readTree(tmp.resolve("small.json").toFile());

    assertThat(json.get("version").asText()).isEqualTo("0.9");
    assertThat(json.get("build_tool_identifier").asText()).isEqualTo("lazypull test");
    assertThat(json.get("compressed_archive_size").asLong()).isEqualTo(2121703);
    assertThat(json.get("compression_info").get("max_span_id").asInt()).isEqualTo(5);
    assertThat(json.get("compression_info").get("compression_algorithm").asText())
        .isEqualTo("Gzip");
    JsonNode metadata = json.get("toc").get("metadata");
    for (int i = 0; i < metadata.size(); i++) {
      assertFileMatches(ztoc.files().get(i), metadata.get(i));
    }
    byte[] blob = new byte[json.get("compression_info").get("checkpoints").size()];
    for (int i = 0; i < blob.length; i++) {
      blob[i] = (byte) json.get("compression_info").get("checkpoints").get(i).asInt();
    }
    assertThat(blob).isEqualTo(ReferenceVectors.checkpoints("small-text"));
  }

  /** Runs flatc with the SOCI schema on a binary zTOC, writing {@code <name>.json} into tmp. */
  private void runFlatc(Path schema, Path file, String... options) throws Exception {
    var command = new ArrayList<String>();
    command.addAll(List.of("flatc", "--json", "--raw-binary", "--defaults-json"));
    command.addAll(List.of(options));
    command.addAll(List.of("-o", tmp.toString(), schema.toString(), "--", file.toString()));
    Process flatc = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(flatc.getInputStream().readAllBytes());
    assertThat(flatc.waitFor()).as(output).isZero();
  }

  @Test
  void encode_nonUtf8Names_areTheRawBytesFlatcSees() throws Exception {
    Ztoc ztoc =
        new ZtocBuilder(1 << 16, "lazypull test")
            .build(
                new ByteArrayInputStream(
                    ZtocNonUtf8NamesTest.layer(dev.lazypull.testing.TestLayers.LongNames.PAX)),
                "non-utf8");
    Path file = tmp.resolve("names.ztoc");
    Files.write(file, ZtocCodec.encode(ztoc));
    Path schema = tmp.resolve("ztoc.fbs");
    Files.write(schema, ReferenceVectors.bytes("ztoc.fbs"));

    // flatc refuses non-UTF-8 strings unless asked, then shows each bad byte as \xNN: as it
    // would for a SOCI zTOC of the same layer, whose Go strings hold the tar's bytes.
    runFlatc(schema, file, "--allow-non-utf8");
    String json = Files.readString(tmp.resolve("names.json"), StandardCharsets.ISO_8859_1);

    assertThat(json)
        .contains("name: \"d/caf\\xE9.txt\"")
        .contains("name: \"d/caf\\xFF.txt\"")
        .contains("linkname: \"../\\xC3(x\"");
  }

  @Test
  void decode_olderBlobWithoutCheckpointZero_rebuildsIt() throws Exception {
    byte[] full = ReferenceVectors.checkpoints("small-text");
    byte[] old = new byte[full.length - GzipCheckpoints.ENTRY_SIZE];
    System.arraycopy(full, 0, old, 0, GzipCheckpoints.HEADER_SIZE);
    System.arraycopy(
        full,
        GzipCheckpoints.HEADER_SIZE + GzipCheckpoints.ENTRY_SIZE,
        old,
        GzipCheckpoints.HEADER_SIZE,
        old.length - GzipCheckpoints.HEADER_SIZE);

    GzipCheckpoints decoded = GzipCheckpoints.decode(old);

    assertThat(decoded.spanCount()).isEqualTo(6);
    assertThat(decoded.checkpoint(0)).isEqualTo(new Checkpoint(10, 0, 0));
    assertThat(decoded.window(0)).containsOnly(0);
    assertThat(decoded.firstCheckpointRebuilt()).isTrue();
    // Written again in its older form, as SOCI does.
    assertThat(decoded.encode()).isEqualTo(old);
  }

  @Test
  void decode_digestCountDisagreesWithCheckpoints_isRejected() throws Exception {
    Ztoc ztoc = sociSample();
    var info = ztoc.compressionInfo();
    var fewer =
        new CompressionInfo(info.algorithm(), info.spanDigests().subList(0, 17), info.layout());
    byte[] bytes = ZtocCodec.encode(withInfo(ztoc, fewer));

    assertThatThrownBy(() -> ZtocCodec.decode(bytes, "bad.ztoc"))
        .isInstanceOf(ZtocException.class)
        .hasMessageContaining("bad.ztoc")
        .hasMessageContaining("17 span digests for 18 spans");
  }

  @Test
  void decode_checkpointPastTheLayer_isRejected() throws Exception {
    Ztoc ztoc = sociSample();
    var shorter =
        new Ztoc(
            ztoc.version(),
            ztoc.buildToolIdentifier(),
            28000000,
            ztoc.uncompressedArchiveSize(),
            ztoc.files(),
            ztoc.compressionInfo());

    assertThatThrownBy(() -> ZtocCodec.decode(ZtocCodec.encode(shorter), "short.ztoc"))
        .isInstanceOf(ZtocException.class)
        .hasMessageContaining("checkpoint 17");
  }

  @Test
  void decode_fileOutsideTheLayer_isRejected() throws Exception {
    Ztoc ztoc = sociSample();
    var shorter =
        new Ztoc(
            ztoc.version(),
            ztoc.buildToolIdentifier(),
            ztoc.compressedArchiveSize(),
            72200000,
            ztoc.files(),
            ztoc.compressionInfo());

    assertThatThrownBy(() -> ZtocCodec.decode(ZtocCodec.encode(shorter), "short.ztoc"))
        .isInstanceOf(ZtocException.class)
        .hasMessageContaining("outside the 72200000-byte uncompressed layer");
  }

  @Test
  void decode_garbageOrTruncated_isRejectedWithOneLine() {
    byte[] sample = ReferenceVectors.bytes("soci-sample.ztoc");
    byte[] truncated = Arrays.copyOf(sample, 5000);
    byte[] garbage = new byte[64];
    Arrays.fill(garbage, (byte) 0x7f);

    for (byte[] bad : List.of(truncated, garbage, new byte[3])) {
      assertThatThrownBy(() -> ZtocCodec.decode(bad, "bad.ztoc"))
          .isInstanceOf(ZtocException.class)
          .hasMessageStartingWith("reading zTOC bad.ztoc")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
  }

  private static Ztoc withInfo(Ztoc z, CompressionInfo info) {
    return new Ztoc(
        z.version(),
        z.buildToolIdentifier(),
        z.compressedArchiveSize(),
        z.uncompressedArchiveSize(),
        z.files(),
        info);
  }
}
