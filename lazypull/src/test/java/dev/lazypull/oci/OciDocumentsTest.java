package dev.lazypull.oci;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OciDocumentsTest {

  private static final String HEX = "b".repeat(64);

  @Test
  void imageManifest_unknownFieldsAndAnnotations_surviveRewrite() throws Exception {
    String json =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MediaTypes.OCI_MANIFEST
            + "\","
            + "\"config\":{\"mediaType\":\""
            + MediaTypes.OCI_CONFIG
            + "\",\"digest\":\"sha256:"
            + HEX
            + "\",\"size\":7},"
            + "\"layers\":[{\"mediaType\":\""
            + MediaTypes.OCI_LAYER_GZIP
            + "\",\"digest\":"
            + "\"sha256:"
            + HEX
            + "\",\"size\":9,\"annotations\":{\"a\":\"b\"}}],"
            + "\"annotations\":{\"org.opencontainers.image.created\":\"2024\"},"
            + "\"x-future\":{\"nested\":[1,2]}}";

    ImageManifest manifest =
        OciJson.read(json.getBytes(StandardCharsets.UTF_8), ImageManifest.class);
    ImageManifest changed =
        manifest.withAnnotations(
            Map.of(
                "org.opencontainers.image.created",
                "2024",
                MediaTypes.ANN_SOCI_INDEX_DIGEST,
                "sha256:" + HEX));
    JsonNode written = OciJson.MAPPER.readTree(OciJson.write(changed));

    assertThat(written.path("x-future").path("nested").get(1).asInt()).isEqualTo(2);
    assertThat(written.path("layers").get(0).path("annotations").path("a").asText()).isEqualTo("b");
    assertThat(written.path("annotations").path(MediaTypes.ANN_SOCI_INDEX_DIGEST).asText())
        .isEqualTo("sha256:" + HEX);
    assertThat(written.path("subject").isMissingNode()).isTrue();
    assertThat(OciJson.read(OciJson.write(manifest), ImageManifest.class)).isEqualTo(manifest);
  }

  @Test
  void imageIndex_manifestFor_skipsArtifactsAndPicksFirstMatch() throws Exception {
    String json =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MediaTypes.OCI_INDEX
            + "\",\"manifests\":["
            + entry("1", "arm64", null)
            + ","
            + entry("2", "amd64", MediaTypes.SOCI_INDEX_V2)
            + ","
            + entry("3", "amd64", null)
            + ","
            + entry("4", "amd64", null)
            + "]}";
    ImageIndex index = OciJson.read(json.getBytes(StandardCharsets.UTF_8), ImageIndex.class);
    assertThat(index.manifestFor(Platform.parse("linux/amd64")).orElseThrow().digest().hex())
        .isEqualTo("3".repeat(64));
  }

  private static String entry(String hexDigit, String arch, String artifactType) {
    return "{\"mediaType\":\""
        + MediaTypes.OCI_MANIFEST
        + "\",\"digest\":\"sha256:"
        + hexDigit.repeat(64)
        + "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\""
        + arch
        + "\"}"
        + (artifactType == null ? "" : ",\"artifactType\":\"" + artifactType + "\"")
        + "}";
  }

  @Test
  void imageConfig_diffIdsAndUnknownFieldsKept() throws Exception {
    String json =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"]},"
            + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
            + HEX
            + "\"]}}";
    ImageConfig config = OciJson.read(json.getBytes(StandardCharsets.UTF_8), ImageConfig.class);
    assertThat(config.diffIds()).containsExactly(Digest.parse("sha256:" + HEX));
    JsonNode written = OciJson.MAPPER.readTree(OciJson.write(config));
    assertThat(written.path("config").path("Env").get(0).asText()).isEqualTo("A=1");
    assertThat(written.path("rootfs").path("diff_ids").get(0).asText()).isEqualTo("sha256:" + HEX);
  }
}
