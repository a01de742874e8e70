package dev.lazypull.estargz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lazypull.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Objects;

/** The eStargz layers made by the reference writer, from test resources. */
final class ReferenceLayers {
  static final List<String> NAMES =
      List.of("mixed-binary", "small-text-chunk64k", "small-text-prioritized");

  private ReferenceLayers() {}

  static byte[] blob(String name) throws IOException {
    return resource(name + "/layer.esgz");
  }

  static JsonNode expected(String name) throws IOException {
    return new ObjectMapper().readTree(resource(name + "/expected.json"));
  }

  static Digest tocDigest(String name) throws IOException {
    return Digest.parse(expected(name).get("toc_digest").asText());
  }

  static BlobBytes bytesOf(byte[] blob) {
    return (offset, length) ->
        java.util.Arrays.copyOfRange(blob, (int) offset, (int) offset + length);
  }

  private static byte[] resource(String path) throws IOException {
    try (InputStream in = ReferenceLayers.class.getResourceAsStream("/estargz/" + path)) {
      return Objects.requireNonNull(in, "test resource estargz/" + path).readAllBytes();
    }
  }
}
