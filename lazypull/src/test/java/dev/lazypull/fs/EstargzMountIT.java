package dev.lazypull.fs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.cli.Main;
import dev.lazypull.estargz.EstargzReader;
import dev.lazypull.estargz.EstargzWriter;
import dev.lazypull.estargz.Footer;
import dev.lazypull.fs.layer.BackgroundFetchPolicy;
import dev.lazypull.fs.layer.EstargzLayer;
import dev.lazypull.fs.layer.IndexedLayer;
import dev.lazypull.fs.layer.LocalLayer;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.registry.RequestBody;
import dev.lazypull.testing.DebianImages;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestLayers;
import dev.lazypull.testing.TreeSnapshot;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lazy mounts of images with eStargz layers from the real docker-registry, mixed with a plain layer
 * and a SOCI-indexed one, compared path by path with skopeo + umoci's plain unpack.
 */
class EstargzMountIT {
  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  @TempDir Path scratch;

  private static final byte[] BIG = TestLayers.randomBytes(21, 3_000_000);
  private static final byte[] TEXT = TestLayers.textBytes(22, 300_000);
  private static final byte[] LATE = TestLayers.randomBytes(23, 200_000);

  private static byte[] plainLayer() {
    var tar = TestLayers.tar();
    tar.dir("etc/").file("etc/os-release", "ID=test\n").dir("usr/").dir("usr/lib/");
    tar.file("usr/lib/replaced", "old").file("usr/lib/gone", "bye");
    return TestLayers.gzip(tar.build().bytes());
  }

  private static byte[] estargzSourceTar() {
    var tar = TestLayers.tar();
    tar.dir("./").dir("app/").file("app/start.sh", "#!/bin/sh\necho hi\n");
    tar.file("app/text.txt", TEXT).file("app/late.bin", LATE).file("app/empty", new byte[0]);
    tar.fileEntry("app/xattr", "x".getBytes(StandardCharsets.UTF_8)).xattr("user.k", "v");
    tar.fileEntry("app/modes", "m".getBytes(StandardCharsets.UTF_8))
        .mode(04755)
        .owner(7, 8, "", "");
    tar.symlink("app/link", "text.txt").hardlink("app/hard", "app/text.txt");
    tar.charDevice("app/null", 1, 3).blockDevice("app/loop", 7, 1).fifo("app/pipe");
    tar.dir("usr/").dir("usr/lib/").file("usr/lib/replaced", "new").whiteout("usr/lib/gone");
    return tar.build().bytes();
  }

  private static byte[] indexedLayer() {
    var tar = TestLayers.tar();
    tar.dir("opt/").file("opt/big", BIG).file("opt/small", "small\n");
    return TestLayers.gzip(tar.build().bytes());
  }

  @Test
  void mount_mixedEstargzSociAndPlainLayers_matchesUmociUnpackAndPrefetchesInOneRequest()
      throws Exception {
    RegistryClient client = RegistryClient.create(RegistryOptions.defaults());
    ImageReference source = registry.reference("mixed:src");
    Path sourceTar = scratch.resolve("esgz-source.tar");
    Files.write(sourceTar, estargzSourceTar());
    var out = new ByteArrayOutputStream();
    var options =
        new EstargzWriter.Options(
            64 << 10, List.of("app/start.sh", "app/text.txt"), Deflater.BEST_SPEED);
    EstargzWriter.Result esgz = new EstargzWriter(options).write(sourceTar, out);
    byte[] estargz = out.toByteArray();
    Descriptor estargzLayer =
        new Descriptor(
            MediaTypes.OCI_LAYER_GZIP,
            esgz.digest(),
            estargz.length,
            null,
            Map.of(EstargzReader.TOC_DIGEST_ANNOTATION, esgz.tocDigest().toString()),
            null,
            null);
    push(client, source, List.of(plainLayer(), estargz, indexedLayer()), estargzLayer);
    assertThat(
            Main.newCommandLine()
                .execute(
                    "convert",
                    "--span-size",
                    "65536",
                    "--min-layer-size",
                    "1000000",
                    source.toString(),
                    registry.reference("mixed:soci").toString()))
        .isZero();
    ImageReference converted = registry.reference("mixed:soci");
    Path unpacked = umociUnpack(converted);
    String blobPath = "/blobs/" + esgz.digest();
    int before = registry.settledRequestCount();

    try (LazyImage image =
        LazyImage.open(
            RegistryClient.create(RegistryOptions.defaults()),
            converted,
            new LazyImage.Options(
                scratch.resolve("cache"), 1L << 30, Duration.ofSeconds(30), null, false))) {
      assertThat(image.layers().get(0)).isInstanceOf(LocalLayer.class);
      assertThat(image.layers().get(1)).isInstanceOf(EstargzLayer.class);
      assertThat(image.layers().get(2)).isInstanceOf(IndexedLayer.class);
      assertThat(estargzGets(before, blobPath))
          .as("the footer and TOC in one GET of the tail, the start-up files in one more")
          .isEqualTo(2);

      Path mountPoint = Files.createDirectories(scratch.resolve("mnt"));
      try (FuseMount mount =
          FuseMount.mount(
              mountPoint,
              new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"))) {
        assertThat(Files.readAllBytes(mountPoint.resolve("app/text.txt"))).isEqualTo(TEXT);
        assertThat(Files.readString(mountPoint.resolve("app/start.sh"))).contains("echo hi");
        assertThat(estargzGets(before, blobPath))
            .as("start-up files are served from the prefetch")
            .isEqualTo(2);
        assertThat(Files.readAllBytes(mountPoint.resolve("app/late.bin"))).isEqualTo(LATE);
        assertThat(estargzGets(before, blobPath)).isEqualTo(2 + 4); // 200 KB in 64 KiB chunks

        assertThat(mountPoint.resolve("stargz.index.json")).doesNotExist();
        assertThat(mountPoint.resolve(".prefetch.landmark")).doesNotExist();

        long beforeBackground = estargzGets(before, blobPath);
        var lazyEstargz = (EstargzLayer) image.layers().get(1);
        assertThat(lazyEstargz.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer()))
            .isTrue();
        long background = estargzGets(before, blobPath) - beforeBackground;
        assertThat(background).as("the chunks not read yet, in one run").isEqualTo(1);
        assertSameTree(mountPoint, unpacked);
        assertThat(estargzGets(before, blobPath))
            .as("after the background fetch every file is read from the cache")
            .isEqualTo(beforeBackground + background);
      }
    }
  }

  @Test
  @EnabledIfSystemProperty(named = "lazypull.long", matches = "true")
  void mount_debianImageConvertedToEstargz_matchesUmociUnpack() throws Exception {
    Path layout = DebianImages.minbase();
    ImageReference source = registry.reference("debian:minbase");
    DebianImages.pushToRegistry(layout, DebianImages.TAG, source.toString());
    Path prefetch = scratch.resolve("startup.txt");
    Files.writeString(
        prefetch,
        String.join("\n", "usr/bin/dash", "etc/passwd", "usr/lib/x86_64-linux-gnu/libc.so.6"));
    assertThat(
            Main.newCommandLine()
                .execute(
                    "convert",
                    "--format",
                    "estargz",
                    "--prefetch-from",
                    prefetch.toString(),
                    source.toString(),
                    registry.reference("debian:esgz").toString()))
        .isZero();
    ImageReference converted = registry.reference("debian:esgz");
    Path unpacked = umociUnpack(converted);
    RegistryClient client = RegistryClient.create(RegistryOptions.defaults());
    Descriptor layer = client.resolveManifest(converted).imageManifest().layers().getFirst();
    long tocGets = tocRequests(client, converted, layer);
    int before = registry.settledRequestCount();

    try (LazyImage image =
        LazyImage.open(
            client,
            converted,
            new LazyImage.Options(
                scratch.resolve("cache"), 1L << 30, Duration.ofSeconds(30), null, false))) {
      assertThat(image.layers().getFirst()).isInstanceOf(EstargzLayer.class);
      assertThat(estargzGets(before, "/blobs/" + layer.digest()))
          .as("footer and TOC, then the start-up set in one GET")
          .isEqualTo(tocGets + 1);
      Path mountPoint = Files.createDirectories(scratch.resolve("mnt"));
      try (FuseMount mount =
          FuseMount.mount(
              mountPoint,
              new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"))) {
        Files.readAllBytes(mountPoint.resolve("usr/bin/dash"));
        Files.readAllBytes(mountPoint.resolve("etc/passwd"));
        assertThat(estargzGets(before, "/blobs/" + layer.digest()))
            .as("start-up files come from the prefetch")
            .isEqualTo(tocGets + 1);
        assertSameTree(mountPoint, unpacked);
      }
    }
  }

  /** GETs the reader needs for footer and TOC: one if the TOC is in the 64 KiB tail, else two. */
  private static long tocRequests(RegistryClient client, ImageReference image, Descriptor layer)
      throws Exception {
    try (var in =
        client.openRange(
            image, layer.digest(), layer.size(), layer.size() - Footer.SIZE, Footer.SIZE)) {
      long tocOffset = Footer.decode(in.readAllBytes()).tocOffset();
      return layer.size() - tocOffset <= 64 << 10 ? 1 : 2;
    }
  }

  private long estargzGets(int before, String blobPath) throws InterruptedException {
    Thread.sleep(200); // the registry logs a request just after answering it
    return registry.servedRequests().stream()
        .skip(before)
        .filter(r -> r.method().equals("GET") && r.uri().endsWith(blobPath))
        .count();
  }

  /** Pushes gzip layers as an image; {@code annotated} replaces the descriptor it matches. */
  private static void push(
      RegistryClient client, ImageReference ref, List<byte[]> layers, Descriptor annotated)
      throws Exception {
    List<String> diffIds = new ArrayList<>();
    List<Descriptor> descriptors = new ArrayList<>();
    for (byte[] layer : layers) {
      diffIds.add("\"" + Digest.sha256(gunzip(layer)) + "\"");
      var descriptor = Descriptor.of(MediaTypes.OCI_LAYER_GZIP, Digest.sha256(layer), layer.length);
      if (descriptor.digest().equals(annotated.digest())) {
        descriptor = annotated;
      }
      client.pushBlob(ref, descriptor, RequestBody.of(layer), null);
      descriptors.add(descriptor);
    }
    byte[] config =
        ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
                + String.join(",", diffIds)
                + "]}}")
            .getBytes(StandardCharsets.UTF_8);
    var configBlob = Descriptor.of(MediaTypes.OCI_CONFIG, Digest.sha256(config), config.length);
    client.pushBlob(ref, configBlob, RequestBody.of(config), null);
    byte[] manifest =
        OciJson.write(ImageManifest.of(MediaTypes.OCI_MANIFEST, configBlob, descriptors, null));
    client.pushManifest(ref, MediaTypes.OCI_MANIFEST, manifest);
  }

  private Path umociUnpack(ImageReference image) throws Exception {
    Path layout = scratch.resolve("layout");
    run("skopeo", "copy", "--src-tls-verify=false", "docker://" + image, "oci:" + layout + ":x");
    Path bundle = scratch.resolve("bundle");
    run("umoci", "unpack", "--image", layout + ":x", bundle.toString());
    return bundle.resolve("rootfs");
  }

  private static void run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", command) + ": " + output).isZero();
  }

  /** The plain unpack has the eStargz entries as files; the lazy mount hides them. */
  private static void assertSameTree(Path lazy, Path unpacked) throws Exception {
    TreeSnapshot expected = TreeSnapshot.of(unpacked);
    TreeSnapshot actual = TreeSnapshot.of(lazy);
    expected.entries().remove("/");
    actual.entries().remove("/");
    assertThat(expected.entries().remove("/stargz.index.json")).isNotNull();
    assertThat(expected.entries().remove("/.prefetch.landmark")).isNotNull();
    assertThat(actual.entries()).containsExactlyEntriesOf(expected.entries());
    assertThat(actual.hardlinkGroups()).isEqualTo(expected.hardlinkGroups());
  }

  private static byte[] gunzip(byte[] gzip) throws Exception {
    try (var in = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
      return in.readAllBytes();
    }
  }
}
