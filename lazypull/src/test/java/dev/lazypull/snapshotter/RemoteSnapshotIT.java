package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.fs.layer.BackgroundFetchPolicy;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.Containerd;
import dev.lazypull.testing.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote snapshots without containerd: Prepare with the CRI labels mounts a layer lazily over FUSE,
 * commits it under the target name and answers ALREADY_EXISTS; the kernel's overlayfs then merges
 * the lazy layers (whiteouts included) from the mounts the snapshotter returns.
 */
class RemoteSnapshotIT {
  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();
  @TempDir Path dir;
  private Snapshotter snapshotter;

  @BeforeAll
  static void pushImages() throws Exception {
    BusyboxImage.push(registry, "remote:plain", "remote:soci");
    // 64 KiB chunks, so that a read of busybox's first page fetches a small part of its layer.
    assertThat(
            dev.lazypull.cli.Main.newCommandLine()
                .execute(
                    "convert",
                    "--format",
                    "estargz",
                    "--chunk-size",
                    "65536",
                    registry.reference("remote:plain").toString(),
                    registry.reference("remote:esgz").toString()))
        .isZero();
  }

  private Snapshotter open() throws Exception {
    return open(RegistryOptions.defaults());
  }

  private Snapshotter open(RegistryOptions options) throws Exception {
    var client = RegistryClient.create(options);
    snapshotter =
        Snapshotter.open(
            dir.resolve("root"),
            new RemoteLayerMounter(client, dir.resolve("cache"), 64 << 20, Duration.ofSeconds(30)));
    return snapshotter;
  }

  @AfterEach
  void close() throws Exception {
    if (snapshotter != null) {
      snapshotter.close();
    }
    List<String> left = Containerd.mountsUnder(dir);
    for (String mountPoint : left) {
      new ProcessBuilder("umount", "-l", mountPoint).start().waitFor(10, TimeUnit.SECONDS);
    }
    assertThat(left).as("mounts left behind").isEmpty();
  }

  private static Map<String, String> labels(String image, Descriptor layer, String chainId) {
    Map<String, String> labels = new HashMap<>();
    labels.put(SnapshotLabels.TARGET_REF, chainId);
    labels.put(SnapshotLabels.IMAGE_REF, registry.reference(image).toString());
    labels.put(SnapshotLabels.LAYER_DIGEST, layer.digest().toString());
    return labels;
  }

  private static List<Descriptor> layersOf(String image) throws Exception {
    return RegistryClient.create(RegistryOptions.defaults())
        .resolveManifest(registry.reference(image))
        .imageManifest()
        .layers();
  }

  private static void assertAlreadyExists(ThrowingPrepare prepare) {
    assertThatThrownBy(prepare::run)
        .isInstanceOf(SnapshotException.class)
        .extracting(e -> ((SnapshotException) e).reason())
        .isEqualTo(SnapshotException.Reason.ALREADY_EXISTS);
  }

  private interface ThrowingPrepare {
    void run() throws Exception;
  }

  /** Body bytes the registry served for {@code layer} after the first {@code skip} requests. */
  private static long bytesServedFor(Descriptor layer, int skip) {
    return registry.servedRequests().stream()
        .skip(skip)
        .filter(r -> r.uri().contains(layer.digest().toString()))
        .mapToLong(LocalRegistry.ServedRequest::bodyBytes)
        .sum();
  }

  /**
   * The registry writes its access log after it has answered, so a request that was served may not
   * be in the log yet: wait a bounded time for the layer's bytes to show.
   */
  private static long awaitBytesServedFor(Descriptor layer, int skip) throws InterruptedException {
    long served = bytesServedFor(layer, skip);
    for (int i = 0; i < 100 && served == 0; i++) {
      Thread.sleep(50);
      served = bytesServedFor(layer, skip);
    }
    return served;
  }

  @Test
  void prepare_indexedImage_commitsLazyLayersThatOverlayfsMerges() throws Exception {
    List<Descriptor> layers = layersOf("remote:soci");
    int before = registry.settledRequestCount(); // convert downloaded the layers
    Snapshotter snapshotter = open();

    assertAlreadyExists(
        () ->
            snapshotter.prepare("ns/1/extract-a", "", labels("remote:soci", layers.get(0), "c1")));
    assertAlreadyExists(
        () ->
            snapshotter.prepare(
                "ns/2/extract-b", "c1", labels("remote:soci", layers.get(1), "c2")));

    // What containerd 1.6 asks after ALREADY_EXISTS.
    List<Snapshot> found =
        snapshotter.list(List.of("labels.\"containerd.io/snapshot.ref\"==c2,parent==\"c1\""));
    assertThat(found)
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.kind()).isEqualTo(SnapshotKind.COMMITTED);
              assertThat(s.labels())
                  .containsEntry(SnapshotLabels.REMOTE, layers.get(1).digest().toString());
            });
    assertThat(snapshotter.usage("c2")).isEqualTo(Usage.NONE);

    MountSpec rootfs = snapshotter.prepare("ns/3/container", "c2", Map.of()).getFirst();
    assertThat(rootfs.type()).isEqualTo("overlay");
    Path target = Files.createDirectories(dir.resolve("rootfs"));
    mountOverlay(rootfs, target);
    try {
      assertThat(bytesServedFor(layers.get(0), before))
          .as("busybox bytes before any read")
          .isZero();
      assertThat(Files.readString(target.resolve("etc/greeting")))
          .isEqualTo(BusyboxImage.TOP_GREETING);
      assertThat(target.resolve("etc/old")).doesNotExist();
      assertThat(Files.readSymbolicLink(target.resolve("bin/sh"))).isEqualTo(Path.of("busybox"));
      byte[] expected = Files.readAllBytes(BusyboxImage.BUSYBOX);
      try (var in = Files.newInputStream(target.resolve("bin/busybox"))) {
        assertThat(in.readNBytes(4096)).isEqualTo(java.util.Arrays.copyOf(expected, 4096));
      }
      assertThat(awaitBytesServedFor(layers.get(0), before))
          .as("bytes of the busybox layer fetched to read its first 4 KiB")
          .isPositive()
          .isLessThan(layers.get(0).size() / 4);
      assertThat(Files.readAllBytes(target.resolve("bin/busybox"))).isEqualTo(expected);
      Files.writeString(target.resolve("etc/new"), "written\n");
    } finally {
      umount(target);
    }

    // The lower layer shows the whiteout as overlayfs's 0/0 character device.
    Path topLayer = Path.of(lowerDirs(rootfs).getFirst());
    assertThat(
            Files.getAttribute(topLayer.resolve("etc/old"), "unix:rdev", LinkOption.NOFOLLOW_LINKS))
        .isEqualTo(0L);
    assertThat(
            Files.readAttributes(
                    topLayer.resolve("etc/old"),
                    java.nio.file.attribute.BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS)
                .isOther())
        .isTrue();

    snapshotter.remove("ns/3/container");
    snapshotter.remove("c2");
    snapshotter.remove("c1");
    assertThat(Containerd.mountsUnder(dir)).isEmpty();
    assertThat(snapshotter.list(List.of())).isEmpty();
  }

  @Test
  void prepare_withBackgroundFetch_pullsTheWholeLazyLayer() throws Exception {
    List<Descriptor> layers = layersOf("remote:soci");
    Descriptor bottom = layers.get(0);
    int before = registry.settledRequestCount();
    var mounter =
        new RemoteLayerMounter(
            RegistryClient.create(RegistryOptions.defaults()),
            dir.resolve("cache"),
            64 << 20,
            Duration.ofSeconds(30));
    mounter.enableBackgroundFetch(BackgroundFetchPolicy.IMMEDIATE);
    snapshotter = Snapshotter.open(dir.resolve("root"), mounter);
    Snapshotter opened = snapshotter;
    assertAlreadyExists(
        () -> opened.prepare("ns/1/extract-a", "", labels("remote:soci", bottom, "c1")));

    // Nothing reads the layer: every byte the registry sends for it is the background fetcher's.
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (mounter.counters().backgroundSpans() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(mounter.counters().backgroundSpans())
        .as("spans fetched in the background")
        .isPositive();
    long served = bytesServedFor(bottom, before);
    while (served < bottom.size() && System.nanoTime() < deadline) {
      Thread.sleep(100);
      served = bytesServedFor(bottom, before);
    }
    assertThat(served)
        .as("bytes of the layer the registry sent")
        .isGreaterThanOrEqualTo(bottom.size());
  }

  @Test
  void prepare_bottomLayer_opensTheLayersAboveItAhead() throws Exception {
    List<Descriptor> layers = layersOf("remote:soci");
    Descriptor top = layers.get(1);
    var index =
        new dev.lazypull.soci.SociIndexFinder(RegistryClient.create(RegistryOptions.defaults()))
            .find(
                RegistryClient.create(RegistryOptions.defaults())
                    .resolveManifest(registry.reference("remote:soci")),
                null,
                false);
    // Whatever opening the top layer fetches first: its zTOC, or the layer itself when small.
    String topMetadata =
        index.forLayer(top.digest()).map(z -> z.ztoc().digest()).orElse(top.digest()).toString();
    int before = registry.settledRequestCount();
    Snapshotter opened = open();

    assertAlreadyExists(
        () -> opened.prepare("ns/1/extract-a", "", labels("remote:soci", layers.get(0), "c1")));

    // Nobody has asked for the top layer yet; the snapshotter opens it on its own.
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!servedAfter(before, topMetadata) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(servedAfter(before, topMetadata))
        .as("the top layer's metadata fetched before its Prepare")
        .isTrue();
    assertAlreadyExists(
        () -> opened.prepare("ns/2/extract-b", "c1", labels("remote:soci", top, "c2")));
    assertThat(
            registry.servedRequests().stream()
                .skip(before)
                .filter(r -> r.uri().contains(topMetadata))
                .count())
        .as("requests for the top layer's metadata: opened once, ahead")
        .isEqualTo(1);
  }

  private static boolean servedAfter(int skip, String digest) {
    return registry.servedRequests().stream().skip(skip).anyMatch(r -> r.uri().contains(digest));
  }

  @Test
  void open_afterRestart_remountsRemoteSnapshots() throws Exception {
    List<Descriptor> layers = layersOf("remote:soci");
    Snapshotter first = open();
    assertAlreadyExists(
        () -> first.prepare("ns/1/extract-a", "", labels("remote:soci", layers.get(0), "c1")));
    first.close();
    snapshotter = null;
    assertThat(Containerd.mountsUnder(dir)).isEmpty();

    Snapshotter second = open();
    Path layer = Path.of(second.view("ns/2/view", "c1", Map.of()).getFirst().source());
    assertThat(Files.readString(layer.resolve("etc/greeting"))).startsWith("hello from the bottom");
    second.remove("ns/2/view");
    second.remove("c1");
  }

  @Test
  void open_registryDownAtRestart_refusesTheLayerInsteadOfServingItEmpty() throws Exception {
    Snapshotter first;
    try (var doomed = LocalRegistry.create().start()) {
      BusyboxImage.push(doomed, "gone:plain", "gone:soci");
      var layer =
          RegistryClient.create(RegistryOptions.defaults())
              .resolveManifest(doomed.reference("gone:soci"))
              .imageManifest()
              .layers()
              .getFirst();
      Map<String, String> labels = new HashMap<>();
      labels.put(SnapshotLabels.TARGET_REF, "g1");
      labels.put(SnapshotLabels.IMAGE_REF, doomed.reference("gone:soci").toString());
      labels.put(SnapshotLabels.LAYER_DIGEST, layer.digest().toString());
      first = open();
      assertAlreadyExists(() -> first.prepare("ns/1/extract", "", labels));
      first.close();
      snapshotter = null;
    }

    // The restart is not blocked by the registry being down (no retries: they only cost time).
    Snapshotter second =
        open(RegistryOptions.defaults().withRetryPolicy(dev.lazypull.registry.RetryPolicy.NONE));
    assertThat(second.stat("g1").isRemote()).isTrue();
    assertThat(Containerd.mountsUnder(dir)).as("nothing to serve the layer from").isEmpty();
    assertThatThrownBy(() -> second.view("ns/2/view", "g1", Map.of()))
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("g1")
        .extracting(e -> ((SnapshotException) e).reason())
        .isEqualTo(SnapshotException.Reason.UNAVAILABLE);
    assertThatThrownBy(() -> second.prepare("ns/3/container", "g1", Map.of()))
        .isInstanceOf(SnapshotException.class)
        .extracting(e -> ((SnapshotException) e).reason())
        .isEqualTo(SnapshotException.Reason.UNAVAILABLE);
    second.remove("g1");
    assertThat(second.list(List.of())).isEmpty();
  }

  @Test
  void cleanup_orphanedRemoteSnapshot_unmountsItsLayerAndRemovesItsDirectory() throws Exception {
    List<Descriptor> layers = layersOf("remote:soci");
    Snapshotter snapshotter = open();
    assertAlreadyExists(
        () -> snapshotter.prepare("ns/1/extract", "", labels("remote:soci", layers.get(0), "o1")));
    assertThat(Containerd.mountsUnder(dir)).hasSize(1);
    // A row lost while its layer stays mounted (what a removal failing half-way leaves).
    try (var db =
            java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("root/metadata.db"));
        var delete = db.prepareStatement("DELETE FROM snapshots WHERE key = 'o1'")) {
      assertThat(delete.executeUpdate()).isEqualTo(1);
    }

    snapshotter.cleanup();

    assertThat(Containerd.mountsUnder(dir)).isEmpty();
    try (var left = Files.list(dir.resolve("root/snapshots"))) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void prepare_whileAnotherLayerMounts_isNotHeldUp() throws Exception {
    List<Descriptor> layers = layersOf("remote:soci");
    Snapshotter snapshotter = open();
    List<java.net.Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.CompletableFuture<List<MountSpec>> stalledPrepare;
    // A "registry" that accepts connections and never answers: its layer's mount hangs.
    try (var stalled =
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  while (true) {
                    accepted.add(stalled.accept());
                  }
                } catch (java.io.IOException e) {
                  // closed at the end of the test
                }
              });
      Map<String, String> stalledLabels = new HashMap<>();
      stalledLabels.put(SnapshotLabels.TARGET_REF, "s1");
      stalledLabels.put(
          SnapshotLabels.IMAGE_REF, "127.0.0.1:" + stalled.getLocalPort() + "/stalled:1");
      stalledLabels.put(SnapshotLabels.LAYER_DIGEST, layers.get(0).digest().toString());
      stalledPrepare =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  return snapshotter.prepare("ns/1/stalled", "", stalledLabels);
                } catch (Exception e) {
                  throw new java.util.concurrent.CompletionException(e);
                }
              });
      for (int i = 0; i < 200 && accepted.isEmpty(); i++) {
        Thread.sleep(50);
      }
      assertThat(accepted).as("the stalled mount reached its registry").isNotEmpty();

      assertAlreadyExists(
          () ->
              snapshotter.prepare("ns/2/extract", "", labels("remote:soci", layers.get(0), "c1")));
      snapshotter.prepare("ns/3/plain", "", Map.of());
      assertThat(stalledPrepare).as("the other image's mount still hangs").isNotDone();
      stalled.close(); // first, so that a retry is refused rather than stalled again
      for (var socket : accepted) {
        socket.close();
      }
    }
    // Its registry gone, the stalled layer falls back to a plain snapshot.
    assertThat(stalledPrepare.get(120, TimeUnit.SECONDS))
        .singleElement()
        .satisfies(m -> assertThat(m.type()).isEqualTo("bind"));
    for (String key : List.of("ns/1/stalled", "ns/3/plain", "c1")) {
      snapshotter.remove(key);
    }
  }

  @Test
  void prepare_estargzImageWithoutSociIndex_mountsLayersLazilyThroughTheirToc() throws Exception {
    List<Descriptor> layers = layersOf("remote:esgz");
    assertThat(layers.getFirst().annotationsOrEmpty())
        .containsKey(dev.lazypull.estargz.EstargzReader.TOC_DIGEST_ANNOTATION);
    int before = registry.settledRequestCount();
    Snapshotter snapshotter = open();

    assertAlreadyExists(
        () ->
            snapshotter.prepare("ns/1/extract-a", "", labels("remote:esgz", layers.get(0), "e1")));
    assertAlreadyExists(
        () ->
            snapshotter.prepare(
                "ns/2/extract-b", "e1", labels("remote:esgz", layers.get(1), "e2")));
    assertThat(snapshotter.stat("e2").isRemote()).isTrue();

    MountSpec rootfs = snapshotter.prepare("ns/3/container", "e2", Map.of()).getFirst();
    Path target = Files.createDirectories(dir.resolve("rootfs"));
    mountOverlay(rootfs, target);
    try {
      assertThat(Files.readString(target.resolve("etc/greeting")))
          .isEqualTo(BusyboxImage.TOP_GREETING);
      assertThat(target.resolve("etc/old")).doesNotExist();
      assertThat(target.resolve(dev.lazypull.estargz.Toc.TAR_NAME)).doesNotExist();
      assertThat(Files.readSymbolicLink(target.resolve("bin/sh"))).isEqualTo(Path.of("busybox"));
      byte[] expected = Files.readAllBytes(BusyboxImage.BUSYBOX);
      try (var in = Files.newInputStream(target.resolve("bin/busybox"))) {
        assertThat(in.readNBytes(4096)).isEqualTo(java.util.Arrays.copyOf(expected, 4096));
      }
      assertThat(awaitBytesServedFor(layers.get(0), before))
          .as("bytes of the eStargz busybox layer fetched: its tail (TOC) and one chunk")
          .isPositive()
          .isLessThan(layers.get(0).size() / 4);
      assertThat(Files.readAllBytes(target.resolve("bin/busybox"))).isEqualTo(expected);
    } finally {
      umount(target);
    }
    snapshotter.remove("ns/3/container");
    snapshotter.remove("e2");
    snapshotter.remove("e1");
  }

  @Test
  void prepare_imageWithoutIndex_isAPlainSnapshot() throws Exception {
    List<Descriptor> layers = layersOf("remote:plain");
    Snapshotter snapshotter = open();
    List<MountSpec> mounts =
        snapshotter.prepare("ns/1/extract-a", "", labels("remote:plain", layers.get(0), "p1"));
    assertThat(mounts).singleElement().satisfies(m -> assertThat(m.type()).isEqualTo("bind"));
    assertThat(snapshotter.stat("ns/1/extract-a").isRemote()).isFalse();
    snapshotter.remove("ns/1/extract-a");
  }

  private static List<String> lowerDirs(MountSpec overlay) {
    for (String option : overlay.options()) {
      if (option.startsWith("lowerdir=")) {
        return List.of(option.substring("lowerdir=".length()).split(":"));
      }
    }
    throw new AssertionError("no lowerdir in " + overlay);
  }

  private static void mountOverlay(MountSpec mount, Path target) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of("mount", "-t", mount.type(), "-o", String.join(",", mount.options())));
    command.add(mount.source());
    command.add(target.toString());
    run(command);
  }

  private static void umount(Path target) throws Exception {
    run(List.of("umount", target.toString()));
  }

  private static void run(List<String> command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(command + ": " + output).isZero();
  }
}
