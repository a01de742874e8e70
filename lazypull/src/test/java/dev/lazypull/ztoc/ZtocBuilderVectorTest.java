package dev.lazypull.ztoc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lazypull.oci.Digest;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** The builder must reproduce SOCI's checkpoints and span digests byte for byte. */
class ZtocBuilderVectorTest {

  static final List<String> VECTORS = ReferenceVectors.NAMES;

  private static Ztoc build(String name) throws Exception {
    JsonNode expected = ReferenceVectors.expected(name);
    var builder = new ZtocBuilder(expected.get("span_size").asLong(), "lazypull test");
    return builder.build(new ByteArrayInputStream(ReferenceVectors.layer(name)), name);
  }

  @ParameterizedTest
  @FieldSource("VECTORS")
  void build_checkpointsBlobIsByteIdenticalToSoci(String name) throws Exception {
    Ztoc ztoc = build(name);

    assertThat(ztoc.compressionInfo().layout().encode())
        .as("checkpoints blob of %s", name)
        .isEqualTo(ReferenceVectors.checkpoints(name));
  }

  @ParameterizedTest
  @FieldSource("VECTORS")
  void build_spanDigestsAndRangesMatchSoci(String name) throws Exception {
    JsonNode expected = ReferenceVectors.expected(name);
    Ztoc ztoc = build(name);

    List<String> digests = new ArrayList<>();
    for (JsonNode span : expected.get("spans")) {
      digests.add(span.get("digest").asText());
      Span actual = ztoc.span(span.get("span_id").asInt());
      assertThat(actual.compressedStart()).isEqualTo(span.get("compressed_start").asLong());
      assertThat(actual.compressedEnd()).isEqualTo(span.get("compressed_end").asLong());
      assertThat(actual.uncompressedStart()).isEqualTo(span.get("uncompressed_start").asLong());
      assertThat(actual.uncompressedEnd()).isEqualTo(span.get("uncompressed_end").asLong());
    }
    assertThat(ztoc.compressionInfo().spanDigests())
        .extracting(Digest::toString)
        .containsExactlyElementsOf(digests);
    assertThat(ztoc.compressionInfo().maxSpanId()).isEqualTo(expected.get("max_span_id").asInt());
    assertThat(ztoc.compressedArchiveSize()).isEqualTo(expected.get("compressed_size").asLong());
    assertThat(ztoc.uncompressedArchiveSize())
        .isEqualTo(expected.get("uncompressed_size").asLong());
  }
}
