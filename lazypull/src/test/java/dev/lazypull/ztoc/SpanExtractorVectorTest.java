package dev.lazypull.ztoc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** Extraction through checkpoints must give the bytes SOCI's extractor gave. */
class SpanExtractorVectorTest {

  static final List<String> VECTORS = ReferenceVectors.NAMES;

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static Ztoc build(String name, JsonNode expected) throws Exception {
    var builder = new ZtocBuilder(expected.get("span_size").asLong(), "lazypull test");
    return builder.build(new ByteArrayInputStream(ReferenceVectors.layer(name)), name);
  }

  @ParameterizedTest
  @FieldSource("VECTORS")
  void extract_referenceRangesHashAsExpected(String name) throws Exception {
    JsonNode expected = ReferenceVectors.expected(name);
    Ztoc ztoc = build(name, expected);
    var extractor =
        new SpanExtractor(ztoc, new ByteArrayRangeSource(ReferenceVectors.layer(name)), name);

    for (JsonNode check : expected.get("extract_checks")) {
      var out = new ByteArrayOutputStream();
      Extraction extraction =
          extractor.extract(check.get("offset").asLong(), check.get("length").asLong(), out);

      assertThat(sha256(out.toByteArray()))
          .as("%s %s", name, check)
          .isEqualTo(check.get("sha256").asText());
      assertThat(extraction.firstSpan()).isEqualTo(check.get("first_span").asInt());
      assertThat(extraction.lastSpan()).isEqualTo(check.get("last_span").asInt());
      long expectedRead =
          ztoc.span(extraction.lastSpan()).compressedEnd()
              - ztoc.span(extraction.firstSpan()).compressedStart();
      assertThat(extraction.compressedBytesRead()).isEqualTo(expectedRead);
    }
  }

  @ParameterizedTest
  @FieldSource("VECTORS")
  void decompressSpan_everySpanHashesAsExpected(String name) throws Exception {
    JsonNode expected = ReferenceVectors.expected(name);
    Ztoc ztoc = build(name, expected);
    var extractor =
        new SpanExtractor(ztoc, new ByteArrayRangeSource(ReferenceVectors.layer(name)), name);

    for (JsonNode span : expected.get("spans")) {
      byte[] bytes = extractor.decompressSpan(span.get("span_id").asInt());

      assertThat(sha256(bytes)).isEqualTo(span.get("uncompressed_sha256").asText());
    }
  }
}
