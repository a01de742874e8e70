package dev.lazypull.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.lazypull.estargz.EstargzException;
import dev.lazypull.estargz.EstargzReader;
import dev.lazypull.estargz.EstargzWriter;
import dev.lazypull.estargz.FileChunk;
import dev.lazypull.estargz.Footer;
import dev.lazypull.fs.layer.BackgroundFetchPolicy;
import dev.lazypull.fs.layer.EstargzLayer;
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
import dev.lazypull.snapshotter.RemoteLayerMounter;
import dev.lazypull.testing.LegacyStargz;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestLayers;
import dev.lazypull.testing.TreeSnapshot;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * (e)stargz layers without the {@code toc.digest} annotation (legacy stargz; eStargz with its
 * annotations stripped) from the real docker-registry: fetched whole without insecure-skip-verify,
 * mounted lazily through their unverified TOC with it, compared path by path with skopeo + umoci's
 * plain unpack; and annotated layers that are corrupt in their TOC, footer or a chunk.
 */
class EstargzUnverifiedIT {
  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  @TempDir Path scratch;

  private static final byte[] TEXT = TestLayers.textBytes(41, 300_000);
  private static final byte[] LATE = TestLayers.randomBytes(42, 200_000);

  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger lazypullLogger = (Logger) LoggerFactory.getLogger("dev.lazypull");
  private @Nullable Level levelBefore;

  @BeforeEach
  void captureLogs() {
    levelBefore = lazypullLogger.getLevel();
    lazypullLogger.setLevel(Level.INFO);
    logs.start();
    lazypullLogger.addAppender(logs);
  }

  @AfterEach
  void releaseLogs() {
    lazypullLogger.detachAppender(logs);
    lazypullLogger.setLevel(levelBefore);
  }

  private static byte[] plainLayer() {
    var tar = TestLayers.tar();
    tar.dir("etc/").file("etc/os-release", "ID=test\n").file("etc/motd", "plain\n");
    return TestLayers.gzip(tar.build().bytes());
  }

  private static byte[] sourceTar() {
    var tar = TestLayers.tar();
    tar.dir("./").dir("app/").file("app/start.sh", "#!/bin/sh\necho hi\n");
    tar.file("app/text.txt", TEXT).file("app/late.bin", LATE).file("app/empty", new byte[0]);
    tar.fileEntry("app/modes", "m".getBytes(StandardCharsets.UTF_8))
        .mode(04755)
        .owner(7, 8, "", "");
    tar.symlink("app/link", "text.txt").hardlink("app/hard", "app/text.txt");
    tar.charDevice("app/null", 1, 3).fifo("app/pipe");
    return tar.build().bytes();
  }

  private record Esgz(byte[] blob, EstargzWriter.Result result) {}

  private Esgz estargz(List<String> startup) throws Exception {
    Path tar = Files.write(scratch.resolve("source.tar"), sourceTar());
    var out = new ByteArrayOutputStream();
    var options = new EstargzWriter.Options(64 << 10, startup, Deflater.BEST_SPEED);
    EstargzWriter.Result result = new EstargzWriter(options).write(tar, out);
    return new Esgz(out.toByteArray(), result);
  }

  @Test
  void mount_estargzWithoutAnnotation_fetchedWholeWithoutTheOptionAndLazilyWithIt()
      throws Exception {
    Esgz esgz = estargz(List.of("app/start.sh", "app/text.txt"));
    byte[] plain = plainLayer();
    ImageReference image = registry.reference("stripped:1");
    push(image, List.of(plain, esgz.blob()), Map.of());
    Path unpacked = umociUnpack(image);
    String esgzPath = "/blobs/" + esgz.result().digest();
    String plainPath = "/blobs/" + Digest.sha256(plain);

    int before = registry.settledRequestCount();
    try (LazyImage whole = LazyImage.open(client(), image, options("whole", false))) {
      assertThat(whole.layers()).allMatch(layer -> layer instanceof LocalLayer);
      assertThat(gets(before, esgzPath))
          .as("without the option: one whole GET, digest-checked, no range request")
          .containsExactly(200);
      assertThat(logged(Level.INFO, esgz.result().digest().toString()))
          .as("the hint that the option would mount it lazily")
          .anyMatch(line -> line.contains("looks like (e)stargz"))
          .anyMatch(line -> line.contains("--insecure-skip-verify"));
      withMount(whole, mountPoint -> assertSameTree(snapshot(mountPoint), snapshot(unpacked)));
    }

    int beforeLazy = registry.settledRequestCount();
    try (LazyImage lazy = LazyImage.open(client(), image, options("lazy", true))) {
      assertThat(lazy.layers().get(0))
          .as("the plain gzip layer's tail is no footer: fetched whole")
          .isInstanceOf(LocalLayer.class);
      assertThat(gets(beforeLazy, plainPath))
          .as("the probe of its tail, then the whole blob")
          .containsExactly(206, 200);
      var layer = (EstargzLayer) lazy.layers().get(1);
      assertThat(layer.tocTrusted()).isFalse();
      assertThat(gets(beforeLazy, esgzPath))
          .as("one ranged GET of the tail (footer and TOC), one for the start-up files")
          .containsExactly(206, 206);
      assertThat(logged(Level.WARN, esgz.result().digest().toString()))
          .as("one WARN line naming the layer and its unverified TOC")
          .singleElement()
          .satisfies(line -> assertThat(line).contains("UNVERIFIED eStargz TOC"));

      withMount(
          lazy,
          mountPoint -> {
            assertThat(Files.readAllBytes(mountPoint.resolve("app/text.txt"))).isEqualTo(TEXT);
            assertThat(gets(beforeLazy, esgzPath))
                .as("start-up files from the prefetch")
                .hasSize(2);
            assertThat(Files.readAllBytes(mountPoint.resolve("app/late.bin"))).isEqualTo(LATE);
            assertThat(gets(beforeLazy, esgzPath))
                .as("200 KB read lazily in 64 KiB chunks")
                .hasSize(2 + 4)
                .containsOnly(206);
            assertSameTree(snapshot(mountPoint), withoutFormatEntries(snapshot(unpacked)));
          });

      assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isTrue();
      assertThat(layer.tocTrusted()).as("the whole blob matched the layer digest").isTrue();
    }
  }

  @Test
  void mount_legacyStargzLayer_lazilyWithTheOptionAndWholeWithout() throws Exception {
    byte[] tar =
        TestLayers.tar()
            .withoutEndMarker()
            .dir("srv/")
            .file("srv/text.txt", TEXT)
            .file("srv/late.bin", LATE)
            .file("srv/small", "small\n")
            .symlink("srv/link", "small")
            .dir("srv/sub/")
            .file("srv/sub/x", "x")
            .build()
            .bytes();
    LegacyStargz.Layer legacy = LegacyStargz.of(tar, 64 << 10, false);
    ImageReference image = registry.reference("legacy:1");
    push(image, List.of(legacy.blob()), Map.of());
    Path unpacked = umociUnpack(image);
    String blobPath = "/blobs/" + legacy.digest();

    int before = registry.settledRequestCount();
    try (LazyImage lazy = LazyImage.open(client(), image, options("lazy", true))) {
      var layer = (EstargzLayer) lazy.layers().getFirst();
      assertThat(layer.legacyFooter()).as("the 47-byte footer was read").isTrue();
      assertThat(layer.undigestedChunks()).isEqualTo(5 + 4 + 1 + 1);
      assertThat(gets(before, blobPath)).as("one ranged GET of the tail").containsExactly(206);
      assertThat(logged(Level.WARN, legacy.digest().toString()))
          .singleElement()
          .satisfies(
              line ->
                  assertThat(line)
                      .contains("UNVERIFIED legacy stargz TOC")
                      .contains("11 chunks have no digest"));

      withMount(
          lazy,
          mountPoint -> {
            assertThat(Files.readAllBytes(mountPoint.resolve("srv/late.bin"))).isEqualTo(LATE);
            assertThat(gets(before, blobPath)).hasSize(1 + 4).containsOnly(206);
            assertSameTree(snapshot(mountPoint), withoutFormatEntries(snapshot(unpacked)));
          });
      assertThat(layer.fetchAllInBackground(BackgroundFetchPolicy.IMMEDIATE.pacer())).isTrue();
      assertThat(layer.tocTrusted()).isTrue();
    }

    try (LazyImage whole = LazyImage.open(client(), image, options("whole", false))) {
      assertThat(whole.layers().getFirst()).isInstanceOf(LocalLayer.class);
      withMount(whole, mountPoint -> assertSameTree(snapshot(mountPoint), snapshot(unpacked)));
    }
  }

  @Test
  void remoteLayerMounter_legacyLayerOfImageWithoutIndex_lazyOnlyWithAllowNoVerification()
      throws Exception {
    byte[] tar =
        TestLayers.tar().withoutEndMarker().dir("srv/").file("srv/late.bin", LATE).build().bytes();
    LegacyStargz.Layer legacy = LegacyStargz.of(tar, 64 << 10, true);
    ImageReference image = registry.reference("legacy-remote:1");
    push(image, List.of(legacy.blob()), Map.of());
    var request = new RemoteLayerMounter.LayerRequest(image, legacy.digest());
    Path mountPoint = Files.createDirectories(scratch.resolve("remote-mnt"));

    try (var mounter =
        new RemoteLayerMounter(
            client(), scratch.resolve("remote"), 1L << 30, Duration.ofSeconds(30))) {
      assertThat(mounter.mount(request, mountPoint))
          .as("without allow_no_verification: a plain snapshot, containerd downloads the layer")
          .isFalse();

      mounter.allowUnverifiedToc(true);
      int before = registry.settledRequestCount();
      assertThat(mounter.mount(request, mountPoint)).isTrue();
      try {
        assertThat(Files.readAllBytes(mountPoint.resolve("srv/late.bin"))).isEqualTo(LATE);
        assertThat(gets(before, "/blobs/" + legacy.digest()))
            .as("the tail, then the file's 4 chunks, by range")
            .hasSize(1 + 4)
            .containsOnly(206);
      } finally {
        mounter.unmount(mountPoint);
      }
    }
  }

  @Test
  void open_annotatedLayerWithCorruptToc_refusedAtMountTimeNamingTheLayer() throws Exception {
    Esgz esgz = estargz(List.of());
    byte[] corrupt = esgz.blob().clone();
    long tocOffset = Footer.decode(corrupt).tocOffset();
    corrupt[(int) tocOffset + 40] ^= 0x55; // inside the TOC member's deflate data
    ImageReference image = registry.reference("corrupt-toc:1");
    push(image, List.of(corrupt), annotation(esgz));

    assertThatThrownBy(() -> LazyImage.open(client(), image, options("c", true)).close())
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("layer " + Digest.sha256(corrupt));
  }

  @Test
  void open_annotatedLayerWhoseFooterPointsPastTheBlob_refusedAtMountTime() throws Exception {
    Esgz esgz = estargz(List.of());
    byte[] blob = esgz.blob();
    byte[] broken = Arrays.copyOf(blob, blob.length);
    System.arraycopy(
        Footer.encode(blob.length + 10L), 0, broken, blob.length - Footer.SIZE, Footer.SIZE);
    ImageReference image = registry.reference("footer-past:1");
    push(image, List.of(broken), annotation(esgz));

    assertThatThrownBy(() -> LazyImage.open(client(), image, options("f", false)).close())
        .isInstanceOf(EstargzException.class)
        .hasMessageContaining("layer " + Digest.sha256(broken))
        .hasMessageContaining("footer puts the TOC at offset " + (blob.length + 10L));
  }

  @Test
  void read_corruptChunk_failsWithEioAndTheLogNamesTheChunkAndBothDigests() throws Exception {
    Esgz esgz = estargz(List.of());
    EstargzReader clean =
        EstargzReader.open(
            (offset, length) ->
                Arrays.copyOfRange(esgz.blob(), (int) offset, (int) offset + length),
            esgz.blob().length,
            esgz.result().tocDigest(),
            false,
            "clean");
    FileChunk second = clean.index().chunks("app/late.bin").get(1);
    FileChunk third = clean.index().chunks("app/late.bin").get(2);
    assertThat(third.compressedLength()).isEqualTo(second.compressedLength());
    byte[] corrupt = esgz.blob().clone();
    // Chunk 2's member in chunk 1's place: valid gzip, the wrong bytes; the TOC is untouched.
    System.arraycopy(
        esgz.blob(),
        (int) third.compressedOffset(),
        corrupt,
        (int) second.compressedOffset(),
        (int) second.compressedLength());
    Digest served = Digest.sha256(Arrays.copyOfRange(LATE, 2 * 65536, 3 * 65536));
    ImageReference image = registry.reference("corrupt-chunk:1");
    push(image, List.of(corrupt), annotation(esgz));

    try (LazyImage lazy = LazyImage.open(client(), image, options("k", false))) {
      withMount(
          lazy,
          mountPoint -> {
            assertThatThrownBy(() -> Files.readAllBytes(mountPoint.resolve("app/late.bin")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("Input/output error");
            assertThat(Files.readString(mountPoint.resolve("app/start.sh"))).contains("echo hi");
          });
    }
    assertThat(logged(Level.ERROR, "chunk 1 (file bytes 65536-131072"))
        .anyMatch(
            line ->
                line.contains("app/late.bin")
                    && line.contains(second.digest().toString())
                    && line.contains(served.toString())
                    && line.contains("EIO"));
  }

  private static Map<String, String> annotation(Esgz esgz) {
    return Map.of(EstargzReader.TOC_DIGEST_ANNOTATION, esgz.result().tocDigest().toString());
  }

  private LazyImage.Options options(String cache, boolean insecureSkipVerify) {
    return new LazyImage.Options(
        scratch.resolve("cache-" + cache),
        1L << 30,
        Duration.ofSeconds(30),
        null,
        false,
        insecureSkipVerify);
  }

  private static RegistryClient client() {
    return RegistryClient.create(RegistryOptions.defaults());
  }

  @FunctionalInterface
  private interface MountedCheck {
    void check(Path mountPoint) throws Exception;
  }

  private void withMount(LazyImage image, MountedCheck check) throws Exception {
    Path mountPoint = Files.createTempDirectory(scratch, "mnt");
    try (FuseMount mount =
        FuseMount.mount(
            mountPoint,
            new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
            MountOptions.defaults("lazypull-test", "lazypull"))) {
      check.check(mountPoint);
    }
  }

  /** The formatted messages at {@code level} that contain {@code text}. */
  private List<String> logged(Level level, String text) {
    return logs.list.stream()
        .filter(event -> event.getLevel() == level)
        .map(ILoggingEvent::getFormattedMessage)
        .filter(message -> message.contains(text))
        .toList();
  }

  /** Statuses of the GETs of {@code blobPath} served since {@code before}, in order. */
  private List<Integer> gets(int before, String blobPath) throws InterruptedException {
    Thread.sleep(200); // the registry logs a request just after answering it
    return registry.servedRequests().stream()
        .skip(before)
        .filter(r -> r.method().equals("GET") && r.uri().endsWith(blobPath))
        .map(LocalRegistry.ServedRequest::status)
        .toList();
  }

  private static TreeSnapshot snapshot(Path root) throws IOException {
    TreeSnapshot tree = TreeSnapshot.of(root);
    tree.entries().remove("/"); // the mount point's own attributes differ from umoci's rootfs
    return tree;
  }

  private static void assertSameTree(TreeSnapshot actual, TreeSnapshot expected) {
    assertThat(actual.entries()).containsExactlyEntriesOf(expected.entries());
    assertThat(actual.hardlinkGroups()).isEqualTo(expected.hardlinkGroups());
  }

  /** A plain unpack has the TOC and landmarks as files; a lazy mount hides them. */
  private static TreeSnapshot withoutFormatEntries(TreeSnapshot unpacked) {
    assertThat(unpacked.entries().remove("/stargz.index.json")).isNotNull();
    unpacked.entries().remove("/.prefetch.landmark");
    unpacked.entries().remove("/.no.prefetch.landmark");
    return unpacked;
  }

  /** Pushes gzip layers as an image, with {@code annotations} on every layer. */
  private static void push(ImageReference ref, List<byte[]> layers, Map<String, String> annotations)
      throws Exception {
    RegistryClient client = client();
    List<String> diffIds = new ArrayList<>();
    List<Descriptor> descriptors = new ArrayList<>();
    for (byte[] layer : layers) {
      diffIds.add("\"" + diffId(layer) + "\"");
      var descriptor =
          new Descriptor(
              MediaTypes.OCI_LAYER_GZIP,
              Digest.sha256(layer),
              layer.length,
              null,
              annotations.isEmpty() ? null : annotations,
              null,
              null);
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
    Path layout = scratch.resolve("layout-" + image.repository());
    run("skopeo", "copy", "--src-tls-verify=false", "docker://" + image, "oci:" + layout + ":x");
    Path bundle = scratch.resolve("bundle-" + image.repository());
    run("umoci", "unpack", "--image", layout + ":x", bundle.toString());
    return bundle.resolve("rootfs");
  }

  private static void run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", command) + ": " + output).isZero();
  }

  /** The layer's diff id; a layer corrupted on purpose (it never unpacks) gets a stand-in. */
  private static Digest diffId(byte[] layer) {
    try {
      return Digest.sha256(gunzip(layer));
    } catch (Exception e) {
      return Digest.sha256(layer);
    }
  }

  private static byte[] gunzip(byte[] gzip) throws Exception {
    try (var in = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
      return in.readAllBytes();
    }
  }
}
