package dev.lazypull.soci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.cli.Main;
import dev.lazypull.cli.Version;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import dev.lazypull.registry.CredentialSource;
import dev.lazypull.registry.Credentials;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.registry.RequestBody;
import dev.lazypull.soci.TestImages.Layer;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestLayers;
import dev.lazypull.ztoc.CompressionInfo;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocBuilder;
import dev.lazypull.ztoc.ZtocCodec;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/**
 * Every bad input gives one line naming what was done and what to try, exit code 1, and leaves the
 * registry's tags as they were.
 */
class SociBadInputIT {

  @RegisterExtension static final LocalRegistry REGISTRY = LocalRegistry.create();

  static final RegistryClient CLIENT =
      RegistryClient.create(
          RegistryOptions.defaults()
              .withCredentials(CredentialSource.NONE)
              .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(30)));

  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

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

  static byte[] goodTar() {
    return TestLayers.tar()
        .file("etc/hostname", "box\n")
        .file("usr/big.bin", TestLayers.randomBytes(5, 300_000))
        .build()
        .bytes();
  }

  /** Pushes SRC with the layer and a previous DST image, so that both tags exist beforehand. */
  static void pushSourceAndOldDestination(String repo, Layer layer) throws Exception {
    TestImages.push(CLIENT, REGISTRY.reference(repo + ":src"), List.of(layer));
    TestImages.push(
        CLIENT,
        REGISTRY.reference(repo + ":dst"),
        List.of(Layer.gzip(TestLayers.gzip(TestLayers.tar().file("old", "x").build().bytes()))));
  }

  /** Runs the command; checks exit 1, one line naming the things given, tags unchanged. */
  void assertFailsCleanly(List<String> repositories, String[] args, String... mentions)
      throws Exception {
    Map<String, Map<String, Digest>> before = new java.util.TreeMap<>();
    for (String repo : repositories) {
      before.put(repo, SociCommandsIT.tagsIn(CLIENT, REGISTRY, repo));
    }

    int code = run(args);

    System.out.println("one-line error: " + err.toString().strip());
    assertThat(code).as("exit code; stderr: %s", err).isEqualTo(1);
    assertThat(err.toString().strip().lines()).as(err.toString()).hasSize(1);
    assertThat(err.toString()).startsWith("lazypull ");
    for (String mention : mentions) {
      assertThat(err.toString()).contains(mention);
    }
    for (String repo : repositories) {
      assertThat(SociCommandsIT.tagsIn(CLIENT, REGISTRY, repo))
          .as("tags of %s", repo)
          .isEqualTo(before.get(repo));
    }
  }

  String[] convert(String repo, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of("convert", ref(repo + ":src"), ref(repo + ":dst"), "--min-layer-size", "1000"));
    args.addAll(Arrays.asList(more));
    return args.toArray(String[]::new);
  }

  @Test
  void convert_unknownImageOrTag_failsNamingIt() throws Exception {
    pushSourceAndOldDestination("unknown", Layer.gzip(TestLayers.gzip(goodTar())));
    assertFailsCleanly(
        List.of("unknown"),
        new String[] {"convert", ref("nothere/app:1"), ref("unknown:dst")},
        "nothere/app");
    assertFailsCleanly(
        List.of("unknown"),
        new String[] {"convert", ref("unknown:nosuchtag"), ref("unknown:dst")},
        "nosuchtag");
  }

  @Test
  void convert_unknownPlatform_failsSayingWhatToTry() throws Exception {
    pushSourceAndOldDestination("platform", Layer.gzip(TestLayers.gzip(goodTar())));
    assertFailsCleanly(
        List.of("platform"),
        convert("platform", "--platform", "linux/s390x"),
        "linux/s390x",
        "--platform");
  }

  @Test
  void convert_registryDown_failsNamingTheRegistry() throws Exception {
    int port;
    try (var socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    assertFailsCleanly(
        List.of(),
        new String[] {"convert", "127.0.0.1:" + port + "/a:1", "127.0.0.1:" + port + "/a:2"},
        "127.0.0.1:" + port);
  }

  @Test
  void convert_registryRefusingPushes_failsAndLeavesTags() throws Exception {
    pushSourceAndOldDestination("refused", Layer.gzip(TestLayers.gzip(goodTar())));
    try (ReferrersFront front = ReferrersFront.refusingWrites(REGISTRY.hostPort())) {
      assertFailsCleanly(
          List.of("refused"),
          new String[] {
            "convert",
            front.hostPort() + "/refused:src",
            front.hostPort() + "/refused:dst",
            "--min-layer-size",
            "1000"
          },
          front.hostPort(),
          "403");
    }
  }

  @Test
  void convert_wrongCredentials_failsWithoutEchoingThem() throws Exception {
    try (LocalRegistry secured = LocalRegistry.withBasicAuth("alice", "right-pass").start()) {
      var alice =
          RegistryClient.create(
              RegistryOptions.defaults()
                  .withCredentials(CredentialSource.fixed(new Credentials("alice", "right-pass"))));
      TestImages.push(
          alice, secured.reference("sec:src"), List.of(Layer.gzip(TestLayers.gzip(goodTar()))));
      String src = secured.hostPort() + "/sec:src";

      int code = run("convert", src, secured.hostPort() + "/sec:dst", "--user", "alice:wrong-pass");

      assertThat(code).isEqualTo(1);
      assertThat(err.toString().strip().lines()).hasSize(1);
      assertThat(err.toString()).contains(secured.hostPort()).doesNotContain("wrong-pass");
      assertThat(alice.listTags(secured.reference("sec:src"))).containsExactly("src");
    }
  }

  @Test
  void convert_layerNotGzipDespiteMediaType_failsNamingTheLayer() throws Exception {
    byte[] text = TestLayers.textBytes(1, 50_000);
    Layer layer = new Layer(text, MediaTypes.OCI_LAYER_GZIP);
    pushSourceAndOldDestination("notgzip", layer);
    assertFailsCleanly(
        List.of("notgzip"), convert("notgzip"), layer.descriptor().digest().toString(), "gzip");
  }

  @Test
  void convert_zstdBytesUnderGzipMediaType_fails() throws Exception {
    byte[] zstd = new byte[50_000];
    zstd[0] = 0x28;
    zstd[1] = (byte) 0xb5;
    zstd[2] = 0x2f;
    zstd[3] = (byte) 0xfd;
    Layer layer = new Layer(zstd, MediaTypes.OCI_LAYER_GZIP);
    pushSourceAndOldDestination("zstdbytes", layer);
    assertFailsCleanly(List.of("zstdbytes"), convert("zstdbytes"), "zstd");
  }

  @Test
  void convert_zstdMediaType_warnsAndConvertsWithoutZtoc() throws Exception {
    byte[] zstd = new byte[50_000];
    zstd[0] = 0x28;
    zstd[1] = (byte) 0xb5;
    zstd[2] = 0x2f;
    zstd[3] = (byte) 0xfd;
    Layer zstdLayer = new Layer(zstd, MediaTypes.OCI_LAYER_ZSTD);
    Layer gzipLayer = Layer.gzip(TestLayers.gzip(goodTar()));
    TestImages.push(CLIENT, REGISTRY.reference("zstd:src"), List.of(gzipLayer, zstdLayer));

    assertThat(run("convert", ref("zstd:src"), ref("zstd:dst"), "--min-layer-size", "1000"))
        .as(err.toString())
        .isZero();

    assertThat(err.toString()).contains("warning: layer " + zstdLayer.descriptor().digest());
    FoundIndex found =
        new SociIndexFinder(CLIENT).find(REGISTRY.reference("zstd:dst"), null, false);
    assertThat(found.layers())
        .extracting(l -> l.layer().digest())
        .containsExactly(gzipLayer.descriptor().digest());
  }

  @Test
  void convert_sparseFile_warnsAndLeavesLayerWithoutZtoc() throws Exception {
    byte[] tar =
        TestLayers.tar()
            .file("a", TestLayers.randomBytes(2, 20_000))
            .gnuSparse("sparse.img", TestLayers.randomBytes(3, 4096))
            .build()
            .bytes();
    Layer layer = Layer.gzip(TestLayers.gzip(tar));
    TestImages.push(CLIENT, REGISTRY.reference("sparse:src"), List.of(layer));

    assertThat(run("convert", ref("sparse:src"), ref("sparse:dst"), "--min-layer-size", "1000"))
        .as(err.toString())
        .isZero();

    assertThat(err.toString()).contains("warning: layer").contains("sparse");
    FoundIndex found =
        new SociIndexFinder(CLIENT).find(REGISTRY.reference("sparse:dst"), null, false);
    assertThat(found.layers()).isEmpty();
  }

  @Test
  void convert_corruptGzip_failsNamingTheLayer() throws Exception {
    byte[] gzip = TestLayers.gzip(goodTar());
    for (int i = gzip.length / 3; i < gzip.length / 3 + 64; i++) {
      gzip[i] ^= 0x5a;
    }
    Layer layer = Layer.gzip(gzip);
    pushSourceAndOldDestination("corrupt", layer);
    assertFailsCleanly(
        List.of("corrupt"), convert("corrupt"), layer.descriptor().digest().shortHex());
  }

  @Test
  void convert_truncatedLayer_failsNamingTheLayer() throws Exception {
    byte[] gzip = TestLayers.gzip(goodTar());
    Layer layer = Layer.gzip(Arrays.copyOf(gzip, gzip.length / 2));
    pushSourceAndOldDestination("truncated", layer);
    assertFailsCleanly(
        List.of("truncated"), convert("truncated"), layer.descriptor().digest().shortHex());
  }

  @Test
  void convert_tarSizeFieldNegativeOrHuge_failsNamingTheEntry() throws Exception {
    for (long size : new long[] {-1, 1L << 50}) {
      var builder = TestLayers.tar();
      builder.fileEntry("bad.bin", TestLayers.randomBytes(4, 2000)).headerSize(size);
      builder.file("after", TestLayers.randomBytes(6, 3000));
      Layer layer = Layer.gzip(TestLayers.gzip(builder.build().bytes()));
      String repo = "tarsize" + (size < 0 ? "neg" : "huge");
      pushSourceAndOldDestination(repo, layer);
      assertFailsCleanly(List.of(repo), convert(repo), layer.descriptor().digest().shortHex());
    }
  }

  /** A v2 index naming a forged zTOC for the image's layer, found with --index. */
  static Digest pushForgedIndex(ImageReference image, Descriptor layer, byte[] ztocBytes)
      throws Exception {
    Descriptor ztoc = SociIndex.ztocDescriptor(layer, ztocBytes, 65536);
    CLIENT.pushBlob(image, ztoc, RequestBody.of(ztocBytes), null);
    CLIENT.pushBlob(
        image,
        SociIndex.emptyConfig(IndexVersion.V2),
        RequestBody.of(SociIndex.emptyConfigBytes()),
        null);
    byte[] index = OciJson.write(SociIndex.document(IndexVersion.V2, List.of(ztoc), null, "test"));
    Digest digest = Digest.sha256(index);
    CLIENT.pushManifest(image.withDigest(digest), MediaTypes.OCI_MANIFEST, index);
    return digest;
  }

  @Test
  void ztocInfoImage_ztocWithBadSpanCountOrOffsetsPastLayer_failsNamingIt() throws Exception {
    byte[] gzip = TestLayers.gzip(goodTar());
    Layer layer = Layer.gzip(gzip);
    ImageReference image = REGISTRY.reference("forged:src");
    TestImages.push(CLIENT, image, List.of(layer));
    Ztoc good =
        new ZtocBuilder(65536, "lazypull " + Version.current())
            .build(new ByteArrayInputStream(gzip), "layer");

    CompressionInfo info = good.compressionInfo();
    Ztoc badCount =
        new Ztoc(
            good.version(),
            good.buildToolIdentifier(),
            good.compressedArchiveSize(),
            good.uncompressedArchiveSize(),
            good.files(),
            new CompressionInfo(
                info.algorithm(),
                info.spanDigests().subList(0, info.spanDigests().size() - 1),
                info.layout()));
    Digest badCountIndex = pushForgedIndex(image, layer.descriptor(), ZtocCodec.encode(badCount));
    assertFailsCleanly(
        List.of("forged"),
        new String[] {
          "ztoc",
          "info",
          "--image",
          ref("forged:src"),
          "--layer",
          layer.descriptor().digest().toString(),
          "--index",
          badCountIndex.toString()
        },
        "span digests");

    Ztoc pastEnd =
        new Ztoc(
            good.version(),
            good.buildToolIdentifier(),
            good.compressedArchiveSize() * 4,
            good.uncompressedArchiveSize(),
            good.files(),
            info);
    Digest pastEndIndex = pushForgedIndex(image, layer.descriptor(), ZtocCodec.encode(pastEnd));
    assertFailsCleanly(
        List.of("forged"),
        new String[] {
          "ztoc",
          "get-file",
          "--image",
          ref("forged:src"),
          "--layer",
          layer.descriptor().digest().toString(),
          "--index",
          pastEndIndex.toString(),
          "etc/hostname"
        },
        "rebuild the index");
  }

  @Test
  void ztocInfoImage_indexForAnotherImagesLayer_isRejected() throws Exception {
    Layer mine = Layer.gzip(TestLayers.gzip(goodTar()));
    Layer other = Layer.gzip(TestLayers.gzip(TestLayers.tar().file("o", "other").build().bytes()));
    ImageReference image = REGISTRY.reference("foreign:src");
    TestImages.push(CLIENT, image, List.of(mine));
    CLIENT.pushBlob(image, other.descriptor(), RequestBody.of(other.bytes()), null);
    byte[] ztoc =
        ZtocCodec.encode(
            new ZtocBuilder(65536, "x").build(new ByteArrayInputStream(other.bytes()), "o"));
    Digest index = pushForgedIndex(image, other.descriptor(), ztoc);

    assertFailsCleanly(
        List.of("foreign"),
        new String[] {"index", "info", ref("foreign:src"), "--index", index.toString()},
        "not a layer of");
  }

  @Test
  void create_unknownImage_failsAndUsageErrorsExitTwo() throws Exception {
    assertFailsCleanly(List.of(), new String[] {"create", ref("ghost:1")}, "ghost");
    assertThat(run("convert", ref("only-one-arg:1"))).isEqualTo(2);
    assertThat(run("ztoc", "get-file", "--image", ref("x:1"), "a", "b")).isEqualTo(2);
  }
}
