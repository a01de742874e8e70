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
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

class DebianImagesIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Path minbase = Path.of("");

  @BeforeAll
  static void buildMinbase() {
    minbase = DebianImages.minbase();
  }

  @Test
  void minbase_everyBlobIsNamedByItsSha256() throws IOException {
    assertBlobsNamedBySha256(minbase);
  }

  @Test
  void minbase_manifestDescribesOneGzipLayerAndItsConfig() throws IOException {
    JsonNode manifest = assertManifestMatchesBlobs(minbase);

    assertThat(manifest.path("layers")).hasSize(1);
  }

  @Test
  void minbase_diffIdsAreSha256OfGunzippedLayers() throws IOException {
    assertDiffIdsMatchLayers(minbase);
  }

  @Test
  void minbase_umociUnpacksARootfsWithBinSh(@TempDir Path scratch) throws Exception {
    Path rootfs = unpack(minbase, scratch);

    Path sh = rootfs.resolve("bin/sh");
    assertThat(Files.isRegularFile(sh)).as("%s resolves to a file", sh).isTrue();
    assertThat(Files.isExecutable(sh)).isTrue();
  }

  @Test
  void minbase_secondBuildReusesTheCachedLayout() throws IOException {
    String indexBefore = Files.readString(minbase.resolve("index.json"));

    Path again = DebianImages.minbase();

    // A rebuild could not give the same manifest digest: debootstrap's file times differ.
    assertThat(again).isEqualTo(minbase);
    assertThat(Files.readString(again.resolve("index.json"))).isEqualTo(indexBefore);
  }

  /** Builds the 245 MiB python image on a fresh machine: a few minutes, so long runs only. */
  @Test
  @EnabledIfSystemProperty(named = "lazypull.long", matches = "true")
  void python_sharesTheBaseLayerAndUnpacksWithNumpy(@TempDir Path scratch) throws Exception {
    Path python = DebianImages.python();

    assertBlobsNamedBySha256(python);
    JsonNode manifest = assertManifestMatchesBlobs(python);
    assertDiffIdsMatchLayers(python);
    assertThat(manifest.path("layers")).hasSize(2);
    assertThat(manifest.path("layers").get(0).path("digest"))
        .isEqualTo(manifest(minbase).path("layers").get(0).path("digest"));
    long compressedSize = 0;
    for (JsonNode layer : manifest.path("layers")) {
      compressedSize += layer.path("size").asLong();
    }
    assertThat(compressedSize).isGreaterThan(100_000_000L);
    Path rootfs = unpack(python, scratch);
    assertThat(rootfs.resolve("usr/lib/python3/dist-packages/numpy/__init__.py")).isRegularFile();
    assertThat(rootfs.resolve("usr/bin/python3")).exists();
  }

  private static void assertBlobsNamedBySha256(Path layout) throws IOException {
    try (var blobs = Files.list(layout.resolve("blobs/sha256"))) {
      for (Path blob : blobs.toList()) {
        assertThat(sha256(blob).hex()).as("digest of %s", blob).isEqualTo(fileName(blob));
      }
    }
  }

  private static JsonNode assertManifestMatchesBlobs(Path layout) throws IOException {
    JsonNode manifest = manifest(layout);

    assertThat(manifest.path("mediaType").asText()).isEqualTo(MediaTypes.OCI_MANIFEST);
    assertThat(manifest.path("config").path("mediaType").asText()).isEqualTo(MediaTypes.OCI_CONFIG);
    for (JsonNode layer : manifest.path("layers")) {
      assertThat(layer.path("mediaType").asText()).isEqualTo(MediaTypes.OCI_LAYER_GZIP);
    }
    for (JsonNode descriptor : descriptors(manifest)) {
      Path blob = blob(layout, descriptor);
      assertThat(Files.size(blob))
          .as("size of %s", blob)
          .isEqualTo(descriptor.path("size").asLong());
    }
    return manifest;
  }

  private static void assertDiffIdsMatchLayers(Path layout) throws IOException {
    JsonNode manifest = manifest(layout);
    JsonNode config = JSON.readTree(blob(layout, manifest.path("config")).toFile());

    assertThat(config.path("architecture").asText()).isEqualTo("amd64");
    assertThat(config.path("os").asText()).isEqualTo("linux");
    assertThat(config.path("config").path("Env").toString()).contains("PATH=");
    JsonNode diffIds = config.path("rootfs").path("diff_ids");
    assertThat(diffIds).hasSameSizeAs(manifest.path("layers"));
    for (int i = 0; i < diffIds.size(); i++) {
      Path layer = blob(layout, manifest.path("layers").get(i));
      try (var gunzipped = new GZIPInputStream(Files.newInputStream(layer))) {
        assertThat(sha256(gunzipped).toString()).isEqualTo(diffIds.get(i).asText());
      }
    }
  }

  /** Unpacks the layout's {@link DebianImages#TAG} with umoci, an independent OCI tool. */
  private static Path unpack(Path layout, Path scratch) throws Exception {
    Path bundle = scratch.resolve("bundle");
    Path log = scratch.resolve("umoci.log");
    var umoci =
        new ProcessBuilder(
                "umoci", "unpack", "--image", layout + ":" + DebianImages.TAG, bundle.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();

    boolean finished = umoci.waitFor(5, TimeUnit.MINUTES);
    if (!finished) {
      umoci.destroyForcibly();
    }
    assertThat(finished).as("umoci unpack of %s finished within 5 minutes", layout).isTrue();
    assertThat(umoci.exitValue())
        .as("umoci unpack exit; output: %s", Files.readString(log))
        .isZero();
    return bundle.resolve("rootfs");
  }

  private static JsonNode manifest(Path layout) throws IOException {
    JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
    for (JsonNode entry : index.path("manifests")) {
      String ref = entry.path("annotations").path("org.opencontainers.image.ref.name").asText();
      if (ref.equals(DebianImages.TAG)) {
        assertThat(entry.path("mediaType").asText()).isEqualTo(MediaTypes.OCI_MANIFEST);
        return JSON.readTree(blob(layout, entry).toFile());
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

  private static Path blob(Path layout, JsonNode descriptor) {
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
