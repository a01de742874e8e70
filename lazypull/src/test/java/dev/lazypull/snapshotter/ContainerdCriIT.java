package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.cli.Main;
import dev.lazypull.containerd.api.cri.ContainerState;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.Containerd;
import dev.lazypull.testing.CriClient;
import dev.lazypull.testing.DebianImages;
import dev.lazypull.testing.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes path: containerd 1.6's CRI plugin, driven over its gRPC socket as a kubelet would
 * (PullImage, RunPodSandbox on the host network, CreateContainer, StartContainer), pulls a
 * SOCI-indexed image with the lazypull snapshotter (snapshot annotations on). The layers become
 * remote snapshots served by lazypull's FUSE mounts, containerd downloads no layer blob, and the
 * container's output reaches its CRI log file. One containerd serves all tests, in order: the first
 * measures bytes with a cold span cache.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerdCriIT {
  private static final String CRI_NAMESPACE = "k8s.io";

  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();
  @TempDir static Path dir;
  static Snapshotter snapshotter;
  static SnapshotterServer server;
  static Containerd containerd;
  static CriClient cri;
  static String image;
  static String sibling;
  static String debian;

  @BeforeAll
  static void start() throws Exception {
    BusyboxImage.push(registry, "cri:plain", "cri:soci");
    BusyboxImage.pushSibling(registry, "sibling:plain", "sibling:soci");
    BusyboxImage.pushSandbox(registry, "pause:sleep");
    debian = pushIndexedDebian(registry, "debian");
    image = registry.reference("cri:soci").toString();
    sibling = registry.reference("sibling:soci").toString();
    snapshotter =
        Snapshotter.open(
            dir.resolve("lazypull"),
            new RemoteLayerMounter(
                RegistryClient.create(RegistryOptions.defaults()),
                dir.resolve("cache"),
                64 << 20,
                Duration.ofSeconds(30)));
    server = SnapshotterServer.start(snapshotter, dir.resolve("lazypull.sock"));
    containerd =
        Containerd.startWithCri(
            dir.resolve("containerd"),
            server.socket(),
            registry.hostPort(),
            registry.reference("pause:sleep").toString());
    cri = CriClient.open(containerd.socket());
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (cri != null) {
        cri.close();
      }
      if (containerd != null) {
        containerd.close();
      }
    } finally {
      if (server != null) {
        server.close();
      }
      if (snapshotter != null) {
        snapshotter.close();
      }
    }
    assertThat(Containerd.mountsUnder(dir)).isEmpty();
  }

  /**
   * Pushes Debian bookworm minbase (one 47 MiB layer) and its SOCI-indexed copy; returns the
   * indexed copy's reference. Busybox alone is too small to show laziness: running it reads most of
   * its 1 MB layer, and a zTOC's checkpoints weigh as much as such a layer.
   */
  static String pushIndexedDebian(LocalRegistry registry, String repository) throws Exception {
    String source = registry.reference(repository + ":minbase").toString();
    DebianImages.pushToRegistry(DebianImages.minbase(), DebianImages.TAG, source);
    String indexed = registry.reference(repository + ":soci").toString();
    assertThat(Main.newCommandLine().execute("convert", source, indexed)).isZero();
    return indexed;
  }

  @Test
  @Order(1)
  void criPod_containerRunsFromLazyLayersWithoutLayerBlobsAndLogsItsOutput() throws Exception {
    var pod = cri.runPodSandbox("lazy", dir.resolve("logs/lazy"));
    // Everything the registry sends from here on counts: manifests, index, zTOCs, spans.
    int before = registry.settledRequestCount();
    long startNanos = System.nanoTime();

    String imageId = cri.pullImage(debian);
    assertThat(imageId).startsWith("sha256:");
    String container =
        cri.createContainer(
            pod,
            "debian",
            debian,
            List.of("/bin/sh", "-c", "cat /etc/debian_version; cat /proc/self/mountinfo"));
    cri.startContainer(container);
    var status = cri.awaitExit(container, 60);
    long millis = (System.nanoTime() - startNanos) / 1_000_000;

    String output = CriClient.logText(pod.logDirectory().resolve("debian.log"));
    assertThat(status.getExitCode()).as(output).isZero();
    assertThat(output).matches("(?s)12\\.\\d+\n.*");

    // The container's root is an overlay whose lower dirs are lazypull's FUSE mounts.
    List<Descriptor> layers = layersOf("debian:soci");
    List<String> lowerDirs = LazypullMounts.rootLowerDirs(output);
    assertThat(lowerDirs).hasSize(layers.size());
    assertThat(LazypullMounts.mountPoints(dir)).containsAll(lowerDirs);

    long imageBytes = layers.stream().mapToLong(Descriptor::size).sum();
    registry.settledRequestCount();
    List<LocalRegistry.ServedRequest> served =
        registry.servedRequests().stream().skip(before).toList();
    long fetched = served.stream().mapToLong(LocalRegistry.ServedRequest::bodyBytes).sum();
    System.out.printf(
        "CRI: PullImage to exit %d ms; the registry sent %d bytes, %.1f%% of the image's %d%n",
        millis, fetched, fetched * 100.0 / imageBytes, imageBytes);
    assertThat(fetched)
        .as(
            "bytes the registry sent (every request) against the image's %d: %s",
            imageBytes, served)
        .isPositive()
        .isLessThan(imageBytes / 4);

    assertNoLayerBlobsInContentStore(layers);
    assertThat(snapshotter.list(List.of("labels.\"" + SnapshotLabels.REMOTE + "\"")))
        .extracting(s -> s.labels().get(SnapshotLabels.REMOTE))
        .containsExactlyInAnyOrderElementsOf(
            layers.stream().map(l -> l.digest().toString()).toList());
    cri.removePod(pod);
  }

  @Test
  @Order(2)
  void criPod_twoContainersOfOneImageRunAtOnce() throws Exception {
    var pod = cri.runPodSandbox("twins", dir.resolve("logs/twins"));
    cri.pullImage(image);
    List<String> containers = new ArrayList<>();
    for (String name : List.of("one", "two")) {
      String id =
          cri.createContainer(
              pod,
              name,
              image,
              List.of("/bin/sh", "-c", "cat /etc/greeting; echo " + name + "; sleep 60"));
      cri.startContainer(id);
      containers.add(id);
    }
    for (String name : List.of("one", "two")) {
      Path logFile = pod.logDirectory().resolve(name + ".log");
      awaitLog(logFile, BusyboxImage.TOP_GREETING + name + "\n");
    }
    assertThat(containers)
        .allSatisfy(
            id ->
                assertThat(cri.status(id).getState()).isEqualTo(ContainerState.CONTAINER_RUNNING));
    assertThat(LazypullMounts.sources(dir))
        .as("one mount per layer, shared by both containers")
        .containsOnlyOnceElementsOf(
            layersOf("cri:soci").stream().map(l -> "lazypull:" + l.digest()).toList());
    cri.removePod(pod);
  }

  @Test
  @Order(3)
  void criPull_twoImagesSharingALayerMountItOnce() throws Exception {
    cri.pullImage(image);
    cri.pullImage(sibling);
    Descriptor shared = layersOf("cri:soci").getFirst();
    assertThat(layersOf("sibling:soci").getFirst()).isEqualTo(shared);
    List<String> layerSources = new ArrayList<>();
    for (String name : List.of("cri:soci", "sibling:soci")) {
      layersOf(name).forEach(l -> layerSources.add("lazypull:" + l.digest()));
    }
    assertThat(LazypullMounts.sources(dir))
        .as("the shared layer once and each top layer")
        .filteredOn(layerSources::contains)
        .hasSize(3)
        .containsOnlyOnce("lazypull:" + shared.digest());

    var pod = cri.runPodSandbox("sibling", dir.resolve("logs/sibling"));
    String container =
        cri.createContainer(pod, "cat", sibling, List.of("/bin/cat", "/etc/greeting"));
    cri.startContainer(container);
    assertThat(cri.awaitExit(container, 60).getExitCode()).isZero();
    assertThat(CriClient.logText(pod.logDirectory().resolve("cat.log")))
        .isEqualTo(BusyboxImage.SIBLING_GREETING);
    cri.removePod(pod);
  }

  @Test
  @Order(4)
  void removingTheImages_leavesNothingMounted() throws Exception {
    for (String name : List.of(debian, image, sibling)) {
      cri.removeImage(name);
    }
    // What is left are the sandbox image's plain layers, which containerd keeps.
    assertThat(snapshotter.list(List.of("labels.\"" + SnapshotLabels.REMOTE + "\""))).isEmpty();
    assertThat(LazypullMounts.mountPoints(dir)).isEmpty();
    assertThat(Containerd.mountsUnder(dir.resolve("lazypull"))).isEmpty();
  }

  private static void assertNoLayerBlobsInContentStore(List<Descriptor> layers) throws Exception {
    String content = containerd.ctrIn(CRI_NAMESPACE, "content", "ls", "-q");
    for (var layer : layers) {
      assertThat(content)
          .as("containerd's content store")
          .doesNotContain(layer.digest().toString());
    }
  }

  private static List<Descriptor> layersOf(String name) throws Exception {
    return RegistryClient.create(RegistryOptions.defaults())
        .resolveManifest(registry.reference(name))
        .imageManifest()
        .layers();
  }

  private static void awaitLog(Path logFile, String expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String text = "";
    while (System.nanoTime() < deadline) {
      text = Files.exists(logFile) ? CriClient.logText(logFile) : "";
      if (text.equals(expected)) {
        return;
      }
      Thread.sleep(50);
    }
    assertThat(text).as(logFile.toString()).isEqualTo(expected);
  }
}
