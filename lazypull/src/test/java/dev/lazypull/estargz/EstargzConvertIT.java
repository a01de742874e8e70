package dev.lazypull.estargz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lazypull.cli.Main;
import dev.lazypull.fs.layer.RegistryBytes;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.registry.ResolvedImage;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestImage;
import dev.lazypull.testing.TestLayers;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code lazypull convert --format estargz} against the real docker-registry. */
class EstargzConvertIT {
  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  @TempDir Path scratch;

  @Test
  void convert_twoLayerImage_pushesVerifiableEstargzLayersAndNewDiffIds() throws Exception {
    RegistryClient client = RegistryClient.create(RegistryOptions.defaults());
    ImageReference source = registry.reference("app:src");
    byte[] upper =
        TestLayers.gzip(
            TestLayers.tar()
                .dir("app/")
                .file("app/start.sh", "#!/bin/sh\n")
                .file("app/data.bin", TestLayers.randomBytes(5, 300_000))
                .build()
                .bytes());
    TestImage.push(
        client,
        source,
        List.of(TestLayers.gzip(EstargzWriterTest.everyEntryType().bytes()), upper));
    Path prefetch = scratch.resolve("prefetch.txt");
    Files.writeString(prefetch, "/app/start.sh\n# comment\n/etc/hostname\n");
    int before = registry.settledRequestCount();

    int exit =
        Main.newCommandLine()
            .execute(
                "convert",
                "--format",
                "estargz",
                "--chunk-size",
                "65536",
                "--prefetch-from",
                prefetch.toString(),
                source.toString(),
                registry.reference("app:esgz").toString());

    assertThat(exit).isZero();
    ResolvedImage converted = client.resolveManifest(registry.reference("app:esgz"));
    List<Descriptor> layers = converted.imageManifest().layers();
    assertThat(layers).hasSize(2);
    JsonNode config =
        OciJson.MAPPER.readTree(
            client.fetchBlobBytes(converted.requested(), converted.imageManifest().config()));
    for (int i = 0; i < layers.size(); i++) {
      Descriptor layer = layers.get(i);
      assertThat(layer.mediaType()).isEqualTo(MediaTypes.OCI_LAYER_GZIP);
      byte[] blob = client.fetchBlobBytes(converted.requested(), layer);
      byte[] tar = gunzip(blob);
      assertThat(config.get("rootfs").get("diff_ids").get(i).asText())
          .isEqualTo(Digest.sha256(tar).toString());
      assertThat(layer.annotationsOrEmpty())
          .containsEntry(EstargzReader.UNCOMPRESSED_SIZE_ANNOTATION, Long.toString(tar.length));
      var reader =
          EstargzReader.open(
              new RegistryBytes(client, converted.requested(), layer, Duration.ofSeconds(30))
                  ::fetch,
              layer.size(),
              Digest.parse(layer.annotationsOrEmpty().get(EstargzReader.TOC_DIGEST_ANNOTATION)),
              false,
              layer.digest().toString());
      assertThat(reader.index().entry(EstargzIndex.PREFETCH_LANDMARK)).isNotNull();
    }
    var readerInput = client.fetchBlobBytes(converted.requested(), layers.get(1));
    var upperReader =
        EstargzReader.open(
            ReferenceLayers.bytesOf(readerInput),
            readerInput.length,
            Digest.parse(
                layers.get(1).annotationsOrEmpty().get(EstargzReader.TOC_DIGEST_ANNOTATION)),
            false,
            "upper");
    assertThat(upperReader.readFile("app/data.bin")).isEqualTo(TestLayers.randomBytes(5, 300_000));

    List<LocalRegistry.ServedRequest> pushes =
        registry.awaitServedRequests(before + 1).stream()
            .skip(before)
            .filter(r -> r.method().equals("PUT"))
            .toList();
    assertThat(pushes.getLast().uri()).endsWith("/manifests/esgz");
    int firstManifest =
        pushes.indexOf(
            pushes.stream().filter(r -> r.uri().contains("/manifests/")).findFirst().orElseThrow());
    assertThat(pushes.subList(firstManifest, pushes.size()))
        .allMatch(r -> r.uri().contains("/manifests/"));
    assertThat(pushes.subList(0, firstManifest)).hasSize(3); // two layers and the config
  }

  private static byte[] gunzip(byte[] gzip) throws Exception {
    try (var in = new GZIPInputStream(new java.io.ByteArrayInputStream(gzip))) {
      var out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toByteArray();
    }
  }
}
