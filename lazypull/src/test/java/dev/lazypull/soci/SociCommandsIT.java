package dev.lazypull.soci;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lazypull.cli.Main;
import dev.lazypull.cli.Version;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageIndex;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import dev.lazypull.oci.Platform;
import dev.lazypull.registry.CredentialSource;
import dev.lazypull.registry.FetchedManifest;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.NotFoundException;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.registry.RequestBody;
import dev.lazypull.soci.TestImages.Layer;
import dev.lazypull.testing.CountingProxy;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestLayers;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocBuilder;
import dev.lazypull.ztoc.ZtocCodec;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * convert, create, index list/info and ztoc --image against the real docker-registry, on images
 * whose tar layers are made in code.
 */
class SociCommandsIT {

  @RegisterExtension static final LocalRegistry REGISTRY = LocalRegistry.create();

  static final long SPAN = 64 << 10;
  static final long MIN_LAYER = 100_000;
  static final String TOOL = "lazypull " + Version.current();

  static final RegistryClient CLIENT =
      RegistryClient.create(
          RegistryOptions.defaults()
              .withCredentials(CredentialSource.NONE)
              .withPlatform(Platform.parse("linux/amd64"))
              .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(30)));

  static byte[] bigFile;
  static byte[] etcText;
  static Layer gzipLayer;
  static Layer tarLayer;
  static Layer smallLayer;

  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @TempDir Path tmp;

  @BeforeAll
  static void makeLayers() {
    bigFile = TestLayers.randomBytes(7, 1_500_000);
    etcText = "NAME=\"lazypull test\"\nID=test\n".getBytes(StandardCharsets.UTF_8);
    byte[] gzipTar =
        TestLayers.tar()
            .dir("etc/")
            .file("etc/os-release", new String(etcText, StandardCharsets.UTF_8))
            .file("usr/lib/big.bin", bigFile)
            .file("usr/lib/text.txt", TestLayers.textBytes(3, 900_000))
            .symlink("bin/sh", "dash")
            .file("bin/dash", TestLayers.randomBytes(9, 20_000))
            .build()
            .bytes();
    gzipLayer = Layer.gzip(TestLayers.gzip(gzipTar));
    tarLayer =
        Layer.tar(
            TestLayers.tar()
                .file("opt/data.bin", TestLayers.randomBytes(11, 400_000))
                .build()
                .bytes());
    smallLayer =
        Layer.gzip(TestLayers.gzip(TestLayers.tar().file("tiny", "small").build().bytes()));
  }

  int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    CommandLine cl = Main.newCommandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    return cl.execute(args);
  }

  static String ref(String repoTag) {
    return REGISTRY.hostPort() + "/" + repoTag;
  }

  static ImageReference pushed(String repoTag, List<Layer> layers) throws RegistryException {
    ImageReference ref = REGISTRY.reference(repoTag);
    TestImages.push(CLIENT, ref, layers);
    return ref;
  }

  static byte[] localZtoc(Layer layer) throws Exception {
    Ztoc ztoc = new ZtocBuilder(SPAN, TOOL).build(new ByteArrayInputStream(layer.bytes()), "local");
    return ZtocCodec.encode(ztoc);
  }

  String[] convertArgs(String src, String dst, String... more) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "convert",
                src,
                dst,
                "--span-size",
                Long.toString(SPAN),
                "--min-layer-size",
                Long.toString(MIN_LAYER)));
    args.addAll(Arrays.asList(more));
    return args.toArray(String[]::new);
  }

  @Test
  void convert_gzipTarAndSmallLayers_pushesV2IndexMatchingLocalZtocs() throws Exception {
    pushed("conv/app:1", List.of(gzipLayer, tarLayer, smallLayer));

    int code = run(convertArgs(ref("conv/app:1"), ref("conv/app:soci")));

    assertThat(code).as(err.toString()).isZero();
    FetchedManifest top = CLIENT.fetchManifest(REGISTRY.reference("conv/app:soci"));
    assertThat(top.mediaType()).isEqualTo(MediaTypes.OCI_INDEX);
    List<Descriptor> entries = top.index().manifests();
    assertThat(entries).hasSize(2);
    assertThat(entries.get(0).artifactType()).isNull();
    assertThat(entries.get(1).artifactType()).isEqualTo(MediaTypes.SOCI_INDEX_V2);
    assertThat(entries.get(1).annotationsOrEmpty())
        .containsEntry(MediaTypes.ANN_SOCI_MANIFEST_DIGEST, entries.get(0).digest().toString());
    assertThat(entries.get(1).platform()).isEqualTo(Platform.parse("linux/amd64"));

    ImageManifest image =
        CLIENT.fetchManifest(REGISTRY.reference("conv/app@" + entries.get(0).digest())).manifest();
    assertThat(image.annotationsOrEmpty())
        .containsEntry(MediaTypes.ANN_SOCI_INDEX_DIGEST, entries.get(1).digest().toString());
    assertThat(image.layers().stream().map(Descriptor::digest))
        .containsExactly(
            gzipLayer.descriptor().digest(),
            tarLayer.descriptor().digest(),
            smallLayer.descriptor().digest());

    FetchedManifest indexBytes =
        CLIENT.fetchManifest(REGISTRY.reference("conv/app@" + entries.get(1).digest()));
    SociIndex index = SociIndex.parse(indexBytes.digest(), indexBytes.bytes(), "index");
    assertThat(index.version()).isEqualTo(IndexVersion.V2);
    assertThat(index.manifest().subject()).isNull();
    assertThat(index.manifest().config().digest())
        .isEqualTo(SociIndex.emptyConfig(IndexVersion.V2).digest());
    List<Descriptor> ztocs = index.ztocs();
    assertThat(ztocs).hasSize(2); // the small layer has none
    ImageReference repo = REGISTRY.reference("conv/app:soci");
    assertThat(CLIENT.fetchBlobBytes(repo, ztocs.get(0))).isEqualTo(localZtoc(gzipLayer));
    assertThat(CLIENT.fetchBlobBytes(repo, ztocs.get(1))).isEqualTo(localZtoc(tarLayer));
    assertThat(ztocs.get(0).annotationsOrEmpty())
        .containsEntry(MediaTypes.ANN_SOCI_LAYER_DIGEST, gzipLayer.descriptor().digest().toString())
        .containsEntry(MediaTypes.ANN_SOCI_LAYER_MEDIA_TYPE, MediaTypes.OCI_LAYER_GZIP)
        .containsEntry(MediaTypes.ANN_SOCI_SPAN_SIZE, Long.toString(SPAN));
    assertThat(
            ZtocCodec.decode(CLIENT.fetchBlobBytes(repo, ztocs.get(1)), "tar")
                .compressionInfo()
                .algorithm()
                .name())
        .isEqualTo("UNCOMPRESSED");
    assertThat(out.toString()).contains("pushed " + ref("conv/app:soci"));
  }

  @Test
  void indexListAndInfo_convertedImage_showV2IndexAndItsZtocs() throws Exception {
    pushed("list/app:1", List.of(gzipLayer, smallLayer));
    assertThat(run(convertArgs(ref("list/app:1"), ref("list/app:soci"))))
        .as(err.toString())
        .isZero();

    assertThat(run("index", "list", ref("list/app:soci"), "--json")).as(err.toString()).isZero();
    JsonNode list = OciJson.MAPPER.readTree(out.toString());
    assertThat(list).hasSize(1);
    assertThat(list.get(0).get("version").asText()).isEqualTo("v2");
    String indexDigest = list.get(0).get("digest").asText();

    assertThat(run("index", "info", ref("list/app:soci"), "--json")).as(err.toString()).isZero();
    JsonNode info = OciJson.MAPPER.readTree(out.toString());
    assertThat(info.get("digest").asText()).isEqualTo(indexDigest);
    assertThat(info.get("manifest").get("config").get("mediaType").asText())
        .isEqualTo(MediaTypes.SOCI_INDEX_V2);
    assertThat(info.get("ztocs")).hasSize(1);
    assertThat(info.get("ztocs").get(0).get("layer").asText())
        .isEqualTo(gzipLayer.descriptor().digest().toString());

    assertThat(run("index", "info", ref("list/app:soci"))).isZero();
    assertThat(out.toString()).contains(indexDigest).contains("IMAGE_ANNOTATION");
    assertThat(run("index", "list", ref("list/app:1"))).isZero();
    assertThat(out.toString()).contains("no SOCI index");
  }

  @Test
  void ztocGetFileImage_readsOnlyTheSpansItNeeds() throws Exception {
    pushed("get/app:1", List.of(gzipLayer, tarLayer));
    assertThat(run(convertArgs(ref("get/app:1"), ref("get/app:soci")))).as(err.toString()).isZero();
    Ztoc ztoc = ZtocCodec.decode(localZtoc(gzipLayer), "local");
    long ztocSize = localZtoc(gzipLayer).length;

    try (CountingProxy proxy = CountingProxy.to(REGISTRY.port())) {
      String image = proxy.hostPort() + "/get/app:soci";
      String layer = gzipLayer.descriptor().digest().toString();
      Path file = tmp.resolve("os-release");
      proxy.reset();

      int code =
          run(
              "ztoc",
              "get-file",
              "--image",
              image,
              "--layer",
              layer,
              "/etc/os-release",
              "-o",
              file.toString());

      assertThat(code).as(err.toString()).isZero();
      assertThat(Files.readAllBytes(file)).isEqualTo(etcText);
      long spanBytes =
          ztoc.span(ztoc.spanOf(ztoc.find("etc/os-release").orElseThrow().uncompressedOffset()))
              .compressedEnd();
      assertThat(proxy.bytesFromServer())
          .as(
              "bytes from the registry: zTOC %d + first span(s) %d + manifests",
              ztocSize, spanBytes)
          .isLessThan(ztocSize + spanBytes + 32_768)
          .isLessThan(gzipLayer.bytes().length);
      assertThat(err.toString()).contains("compressed bytes");

      // A file deep in the layer: its spans, not the ones before it.
      Path big = tmp.resolve("big.bin");
      proxy.reset();
      assertThat(
              run(
                  "ztoc",
                  "get-file",
                  "--image",
                  image,
                  "--layer",
                  layer.substring(7, 19),
                  "usr/lib/big.bin",
                  "-o",
                  big.toString()))
          .as(err.toString())
          .isZero();
      assertThat(Files.readAllBytes(big)).isEqualTo(bigFile);
      long bigSpans = spanBytes(ztoc, "usr/lib/big.bin");
      assertThat(bigSpans).isLessThan(gzipLayer.bytes().length - 200_000);
      assertThat(proxy.bytesFromServer()).isLessThan(ztocSize + bigSpans + 32_768);

      // The uncompressed tar layer: spans are plain byte ranges.
      Path data = tmp.resolve("data.bin");
      assertThat(
              run(
                  "ztoc",
                  "get-file",
                  "--image",
                  image,
                  "--layer",
                  tarLayer.descriptor().digest().toString(),
                  "opt/data.bin",
                  "-o",
                  data.toString()))
          .as(err.toString())
          .isZero();
      assertThat(Files.readAllBytes(data)).isEqualTo(TestLayers.randomBytes(11, 400_000));
    }

    assertThat(
            run(
                "ztoc",
                "info",
                "--image",
                ref("get/app:soci"),
                "--layer",
                gzipLayer.descriptor().digest().toString(),
                "--json"))
        .as(err.toString())
        .isZero();
    JsonNode info = OciJson.MAPPER.readTree(out.toString());
    assertThat(info.get("spans")).hasSize(ztoc.spanCount());
  }

  @Test
  void convert_thenSkopeoCopy_layersAreByteIdenticalToSource() throws Exception {
    pushed("copy/app:1", List.of(gzipLayer, tarLayer));
    assertThat(run(convertArgs(ref("copy/app:1"), ref("copy2/app:soci"))))
        .as(err.toString())
        .isZero();
    Path dir = tmp.resolve("copied");

    Process skopeo =
        new ProcessBuilder(
                "skopeo",
                "copy",
                "--src-tls-verify=false",
                "docker://" + ref("copy2/app:soci"),
                "dir:" + dir)
            .redirectErrorStream(true)
            .start();
    String output = new String(skopeo.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(skopeo.waitFor()).as(output).isZero();

    for (Layer layer : List.of(gzipLayer, tarLayer)) {
      assertThat(Files.readAllBytes(dir.resolve(layer.descriptor().digest().hex())))
          .isEqualTo(layer.bytes());
    }
    ImageManifest copied =
        OciJson.read(Files.readAllBytes(dir.resolve("manifest.json")), ImageManifest.class);
    assertThat(copied.annotationsOrEmpty()).containsKey(MediaTypes.ANN_SOCI_INDEX_DIGEST);
    assertThat(copied.config().mediaType()).isEqualTo(MediaTypes.OCI_CONFIG);
  }

  @Test
  void create_registryWithoutReferrersApi_mergesWithExistingReferrerInFallbackTag()
      throws Exception {
    ImageReference image = pushed("v1/app:1", List.of(gzipLayer, smallLayer));
    Digest subject = CLIENT.fetchManifest(image).digest();
    // Someone else's referrer, already in the fallback tag.
    byte[] other = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
    Descriptor otherBlob = Descriptor.of("application/example", Digest.sha256(other), other.length);
    CLIENT.pushBlob(image, otherBlob, RequestBody.of(other), null);
    ImageManifest otherManifest =
        ImageManifest.of(
            MediaTypes.OCI_MANIFEST,
            otherBlob,
            List.of(),
            Descriptor.of(MediaTypes.OCI_MANIFEST, subject, CLIENT.fetchManifest(image).size()));
    byte[] otherBytes = OciJson.write(otherManifest);
    CLIENT.pushManifest(
        image.withDigest(Digest.sha256(otherBytes)), MediaTypes.OCI_MANIFEST, otherBytes);
    Descriptor otherEntry =
        new Descriptor(
            MediaTypes.OCI_MANIFEST,
            Digest.sha256(otherBytes),
            otherBytes.length,
            null,
            null,
            null,
            "application/example");
    String fallbackTag = RegistryClient.referrersTag(subject);
    CLIENT.pushManifest(
        image.withTag(fallbackTag),
        MediaTypes.OCI_INDEX,
        OciJson.write(ImageIndex.of(List.of(otherEntry))));

    int code =
        run(
            "create",
            ref("v1/app:1"),
            "--span-size",
            Long.toString(SPAN),
            "--min-layer-size",
            Long.toString(MIN_LAYER));

    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString()).contains("sha256-" + subject.hex());
    List<Descriptor> referrers =
        CLIENT.fetchManifest(image.withTag(fallbackTag)).index().manifests();
    assertThat(referrers).hasSize(2);
    assertThat(referrers.get(0).digest()).isEqualTo(otherEntry.digest());
    assertThat(referrers.get(1).artifactType()).isEqualTo(MediaTypes.SOCI_INDEX_V1);
    SociIndex index =
        SociIndex.parse(
            referrers.get(1).digest(),
            CLIENT.fetchManifest(image.withDigest(referrers.get(1).digest())).bytes(),
            "v1");
    assertThat(index.version()).isEqualTo(IndexVersion.V1);
    assertThat(index.manifest().subject().digest()).isEqualTo(subject);
    assertThat(CLIENT.fetchBlobBytes(image, index.ztocs().getFirst()))
        .isEqualTo(localZtoc(gzipLayer));

    // Running it again does not list the same index twice.
    assertThat(
            run(
                "create",
                ref("v1/app:1"),
                "--span-size",
                Long.toString(SPAN),
                "--min-layer-size",
                Long.toString(MIN_LAYER)))
        .isZero();
    assertThat(CLIENT.fetchManifest(image.withTag(fallbackTag)).index().manifests()).hasSize(2);

    var finder = new SociIndexFinder(CLIENT);
    assertThat(finder.find(image, null, true).source()).isEqualTo(IndexSource.REFERRERS_TAG);
    assertThat(
            run(
                "ztoc",
                "info",
                "--image",
                ref("v1/app:1"),
                "--layer",
                gzipLayer.descriptor().digest().toString()))
        .isEqualTo(1);
    assertThat(err.toString()).contains("--allow-v1");
    assertThat(run("index", "list", ref("v1/app:1"), "--json")).isZero();
    assertThat(OciJson.MAPPER.readTree(out.toString()).get(0).get("source").asText())
        .isEqualTo("referrers_tag");
  }

  @Test
  void convertAllPlatforms_toAnotherRegistry_streamsBlobsAndOrdersIndex() throws Exception {
    Layer armLayer =
        Layer.gzip(
            TestLayers.gzip(
                TestLayers.tar()
                    .file("arm.bin", TestLayers.randomBytes(21, 300_000))
                    .build()
                    .bytes()));
    ImageReference multi = REGISTRY.reference("multi/app:1");
    byte[] amd = TestImages.push(CLIENT, multi, List.of(gzipLayer), "amd64");
    byte[] arm = TestImages.push(CLIENT, multi, List.of(armLayer), "arm64");
    List<Descriptor> platforms =
        List.of(
            new Descriptor(
                MediaTypes.OCI_MANIFEST,
                Digest.sha256(amd),
                amd.length,
                null,
                null,
                Platform.parse("linux/amd64"),
                null),
            new Descriptor(
                MediaTypes.OCI_MANIFEST,
                Digest.sha256(arm),
                arm.length,
                null,
                null,
                Platform.parse("linux/arm64"),
                null));
    CLIENT.pushManifest(multi, MediaTypes.OCI_INDEX, OciJson.write(ImageIndex.of(platforms)));

    try (LocalRegistry other = LocalRegistry.create().start()) {
      String dst = other.hostPort() + "/copied/app:soci";
      assertThat(run(convertArgs(ref("multi/app:1"), dst, "--all-platforms")))
          .as(err.toString())
          .isZero();

      List<Descriptor> entries =
          CLIENT.fetchManifest(ImageReference.parse(dst)).index().manifests();
      assertThat(entries)
          .extracting(Descriptor::artifactType)
          .containsExactly(null, null, MediaTypes.SOCI_INDEX_V2, MediaTypes.SOCI_INDEX_V2);
      assertThat(entries)
          .extracting(d -> String.valueOf(d.platform()))
          .containsExactly("linux/amd64", "linux/arm64", "linux/amd64", "linux/arm64");
      assertThat(CLIENT.fetchBlobBytes(ImageReference.parse(dst), armLayer.descriptor()))
          .isEqualTo(armLayer.bytes());

      assertThat(run("index", "info", dst, "--platform", "linux/arm64", "--json"))
          .as(err.toString())
          .isZero();
      JsonNode info = OciJson.MAPPER.readTree(out.toString());
      assertThat(info.get("platform").asText()).isEqualTo("linux/arm64");
      assertThat(info.get("digest").asText()).isEqualTo(entries.get(3).digest().toString());
      assertThat(info.get("ztocs").get(0).get("layer").asText())
          .isEqualTo(armLayer.descriptor().digest().toString());
    }
  }

  @Test
  void convert_dockerMediaTypes_becomeOciWithTheSameBlobs() throws Exception {
    ImageReference src = REGISTRY.reference("docker/app:1");
    byte[] config =
        "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
    Descriptor configBlob =
        Descriptor.of(MediaTypes.DOCKER_CONFIG, Digest.sha256(config), config.length);
    Descriptor layerBlob =
        Descriptor.of(
            MediaTypes.DOCKER_LAYER_GZIP,
            gzipLayer.descriptor().digest(),
            gzipLayer.bytes().length);
    CLIENT.pushBlob(src, configBlob, RequestBody.of(config), null);
    CLIENT.pushBlob(src, layerBlob, RequestBody.of(gzipLayer.bytes()), null);
    CLIENT.pushManifest(
        src,
        MediaTypes.DOCKER_MANIFEST,
        OciJson.write(
            ImageManifest.of(MediaTypes.DOCKER_MANIFEST, configBlob, List.of(layerBlob), null)));

    assertThat(run(convertArgs(ref("docker/app:1"), ref("docker/app:soci"))))
        .as(err.toString())
        .isZero();

    FoundIndex found =
        new SociIndexFinder(CLIENT).find(REGISTRY.reference("docker/app:soci"), null, false);
    ImageManifest converted = found.image().imageManifest();
    assertThat(found.image().manifest().mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
    assertThat(converted.config().mediaType()).isEqualTo(MediaTypes.OCI_CONFIG);
    assertThat(converted.config().digest()).isEqualTo(configBlob.digest());
    assertThat(converted.layers())
        .extracting(Descriptor::mediaType)
        .containsExactly(MediaTypes.OCI_LAYER_GZIP);
    assertThat(found.layers().getFirst().ztoc().annotationsOrEmpty())
        .containsEntry(MediaTypes.ANN_SOCI_LAYER_MEDIA_TYPE, MediaTypes.OCI_LAYER_GZIP);
  }

  @Test
  void create_registryWithReferrersApi_writesNoFallbackTag() throws Exception {
    ImageReference image = pushed("refapi/app:1", List.of(gzipLayer));
    Digest subject = CLIENT.fetchManifest(image).digest();
    try (ReferrersFront front = ReferrersFront.to(REGISTRY.hostPort())) {
      String viaFront = front.hostPort() + "/refapi/app:1";

      assertThat(
              run(
                  "create",
                  viaFront,
                  "--span-size",
                  Long.toString(SPAN),
                  "--min-layer-size",
                  Long.toString(MIN_LAYER)))
          .as(err.toString())
          .isZero();

      assertThat(out.toString()).contains("the referrers API");
      assertThat(CLIENT.listTags(image)).containsExactly("1");
      FoundIndex found =
          new SociIndexFinder(CLIENT).find(ImageReference.parse(viaFront), null, true);
      assertThat(found.source()).isEqualTo(IndexSource.REFERRERS_API);
      assertThat(found.index().manifest().subject().digest()).isEqualTo(subject);
      assertThat(run("index", "list", viaFront, "--json")).isZero();
      assertThat(OciJson.MAPPER.readTree(out.toString()).get(0).get("source").asText())
          .isEqualTo("referrers_api");
    }
  }

  @Test
  void finder_explicitDigestFirst_thenAnnotation() throws Exception {
    pushed("find/app:1", List.of(gzipLayer));
    assertThat(run(convertArgs(ref("find/app:1"), ref("find/app:soci")))).isZero();
    var finder = new SociIndexFinder(CLIENT);
    FoundIndex viaAnnotation = finder.find(REGISTRY.reference("find/app:soci"), null, false);
    assertThat(viaAnnotation.source()).isEqualTo(IndexSource.IMAGE_ANNOTATION);
    assertThat(viaAnnotation.layers()).hasSize(1);
    assertThat(finder.fetchZtoc(viaAnnotation, viaAnnotation.layers().getFirst()).spanCount())
        .isGreaterThan(1);
    FoundIndex explicit =
        finder.find(REGISTRY.reference("find/app:soci"), viaAnnotation.index().digest(), false);
    assertThat(explicit.source()).isEqualTo(IndexSource.EXPLICIT_DIGEST);
  }

  /** Compressed bytes of the spans holding a file's data. */
  static long spanBytes(Ztoc ztoc, String path) {
    var file = ztoc.find(path).orElseThrow();
    int first = ztoc.spanOf(file.uncompressedOffset());
    int last = ztoc.spanOf(file.uncompressedEnd() - 1);
    return ztoc.span(last).compressedEnd() - ztoc.span(first).compressedStart();
  }

  /** Each tag of the repository and the digest it names. */
  static Map<String, Digest> tagsIn(
      RegistryClient client, LocalRegistry registry, String repository) throws RegistryException {
    Map<String, Digest> tags = new TreeMap<>();
    ImageReference repo = registry.reference(repository + ":x");
    try {
      for (String tag : client.listTags(repo)) {
        tags.put(tag, client.fetchManifest(repo.withTag(tag)).digest());
      }
    } catch (NotFoundException e) {
      // no such repository: no tags
    }
    return tags;
  }
}
