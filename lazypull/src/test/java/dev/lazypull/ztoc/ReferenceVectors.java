package dev.lazypull.ztoc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/** The SOCI-made reference vectors under src/test/resources/ztoc/. */
final class ReferenceVectors {
  static final List<String> NAMES =
      List.of(
          "tiny",
          "small-text",
          "fname-header",
          "fextra-header",
          "mixed-binary",
          "pigz-multimember");

  private ReferenceVectors() {}

  static byte[] bytes(String path) {
    try (InputStream in = ReferenceVectors.class.getResourceAsStream("/ztoc/" + path)) {
      if (in == null) {
        throw new IllegalStateException("test resource /ztoc/" + path + " is missing");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] layer(String name) {
    return bytes(name + "/layer.tar.gz");
  }

  static byte[] checkpoints(String name) {
    return bytes(name + "/checkpoints.bin");
  }

  static JsonNode expected(String name) {
    try {
      return new ObjectMapper().readTree(bytes(name + "/expected.json"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
