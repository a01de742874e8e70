package dev.lazypull.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.MediaTypes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DebianImagesIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Path layout = Path.of("");

  @BeforeAll
  static void buildMinbase() {
    layout = DebianImages.minbase();
  }

  @Test
  void minbase_everyBlobIsNamedByItsSha256() throws IOException {
    try (var blobs = Files.list(layout.resolve("blobs/sha256"))) {
      for (Path blob : blobs.toList()) {
        assertThat(sha256(blob).hex()).as("digest of %s", blob).isEqualTo(fileName(blob));
      }
    }
  }

  @Test
  void minbase_manifestDescribesOneGzipLayerAndItsConfig() throws IOException {
    JsonNode manifest = manifest();

    assertThat(manifest.path("mediaType").asText()).isEqualTo(MediaTypes.OCI_MANIFEST);
    assertThat(manifest.path("config").path("mediaType").asText()).isEqualTo(MediaTypes.OCI_CONFIG);
    assertThat(manifest.path("layers")).hasSize(1);
    for (JsonNode descriptor : descriptors(manifest)) {
      Path blob = blob(descriptor);
      assertThat(Files.size(blob))
          .as("size of %s", blob)
          .isEqualTo(descriptor.path("size").asLong());
    }
    assertThat(manifest.path("layers").get(0).path("mediaType").asText())
        .isEqualTo(MediaTypes.OCI_LAYER_GZIP);
  }

  @Test
  void minbase_diffIdsAreSha256OfGunzippedLayers() throws IOException {
    JsonNode manifest = manifest();
    JsonNode config = JSON.readTree(blob(manifest.path("config")).toFile());

    assertThat(config.path("architecture").asText()).isEqualTo("amd64");
    assertThat(config.path("os").asText()).isEqualTo("linux");
    assertThat(config.path("config").path("Env").toString()).contains("PATH=");
    JsonNode diffIds = config.path("rootfs").path("diff_ids");
    assertThat(diffIds).hasSameSizeAs(manifest.path("layers"));
    for (int i = 0; i < diffIds.size(); i++) {
      Path layer = blob(manifest.path("layers").get(i));
      try (var gunzipped = new GZIPInputStream(Files.newInputStream(layer))) {
        assertThat(sha256(gunzipped).toString()).isEqualTo(diffIds.get(i).asText());
      }
    }
  }

  @Test
  void minbase_umociUnpacksARootfsWithBinSh(@TempDir Path scratch) throws Exception {
    Path bundle = scratch.resolve("bundle");
    var umoci =
        new ProcessBuilder(
                "umoci", "unpack", "--image", layout + ":" + DebianImages.TAG, bundle.toString())
            .redirectErrorStream(true)
            .redirectOutput(scratch.resolve("umoci.log").toFile())
            .start();

    boolean finished = umoci.waitFor(5, TimeUnit.MINUTES);
    if (!finished) {
      umoci.destroyForcibly();
    }
    assertThat(finished).as("umoci unpack finished within 5 minutes").isTrue();
    assertThat(umoci.exitValue())
        .as("umoci unpack exit; output: %s", Files.readString(scratch.resolve("umoci.log")))
        .isZero();
    Path sh = bundle.resolve("rootfs/bin/sh");
    assertThat(Files.isRegularFile(sh)).as("%s resolves to a file", sh).isTrue();
    assertThat(Files.isExecutable(sh)).isTrue();
  }

  @Test
  void minbase_secondBuildReusesTheCachedLayout() throws IOException {
    String indexBefore = Files.readString(layout.resolve("index.json"));

    Path again = DebianImages.minbase();

    // A rebuild could not give the same manifest digest: debootstrap's file times differ.
    assertThat(again).isEqualTo(layout);
    assertThat(Files.readString(again.resolve("index.json"))).isEqualTo(indexBefore);
  }

  private static JsonNode manifest() throws IOException {
    JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
    for (JsonNode entry : index.path("manifests")) {
      String ref = entry.path("annotations").path("org.opencontainers.image.ref.name").asText();
      if (ref.equals(DebianImages.TAG)) {
        assertThat(entry.path("mediaType").asText()).isEqualTo(MediaTypes.OCI_MANIFEST);
        return JSON.readTree(blob(entry).toFile());
      }
    }
    throw new AssertionError("no tag " + DebianImages.TAG + " in " + layout + "/index.json");
  }

  private static List<JsonNode> descriptors(JsonNode manifest) {
    var all = new ArrayList<JsonNode>();
    all.add(manifest.path("config"));
    manifest.path("layers").forEach(all::add);
    return all;
  }

  private static Path blob(JsonNode descriptor) {
    Digest digest = Digest.parse(descriptor.path("digest").asText());
    return layout.resolve("blobs").resolve(digest.algorithm()).resolve(digest.hex());
  }

  private static String fileName(Path path) {
    return String.valueOf(path.getFileName());
  }

  private static Digest sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return sha256(in);
    }
  }

  private static Digest sha256(InputStream in) throws IOException {
    var hasher = Digest.newSha256();
    try (var out = new DigestOutputStream(OutputStream.nullOutputStream(), hasher)) {
      in.transferTo(out);
    }
    return Digest.fromSha256(hasher.digest());
  }
}
