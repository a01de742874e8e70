package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.Containerd;
import dev.lazypull.testing.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real containerd 1.6 with lazypull's snapshotter as its proxy plugin: {@code ctr} pulls a small
 * busybox-static image from the real registry into lazypull snapshots and runs it with runc; {@code
 * lazypull pull} records its SOCI-indexed copy with lazily served layers, which ctr runs too.
 */
class ContainerdSnapshotterIT {
  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  @TempDir static Path dir;
  static Snapshotter snapshotter;
  static SnapshotterServer server;
  static Containerd containerd;
  static String image;
  static String indexedImage;

  @BeforeAll
  static void start() throws Exception {
    BusyboxImage.push(registry, "busybox:two-layers", "busybox:soci");
    image = registry.reference("busybox:two-layers").toString();
    indexedImage = registry.reference("busybox:soci").toString();
    snapshotter =
        Snapshotter.open(
            dir.resolve("lazypull"),
            new RemoteLayerMounter(
                RegistryClient.create(RegistryOptions.defaults()),
                dir.resolve("cache"),
                64 << 20,
                Duration.ofSeconds(30)));
    server = SnapshotterServer.start(snapshotter, dir.resolve("lazypull.sock"));
    containerd = Containerd.start(dir.resolve("containerd"), server.socket());
  }

  @AfterAll
  static void stop() throws Exception {
    try {
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

  @Test
  void pullAndRun_imageLayersBecomeLazypullSnapshotsAndTheContainerSeesMergedFiles()
      throws Exception {
    containerd.ctr("images", "pull", "--plain-http", "--snapshotter", "lazypull", image);

    List<Snapshot> committed = snapshotter.list(List.of("kind==committed"));
    assertThat(committed).hasSize(2);
    assertThat(committed.get(1).parent()).isEqualTo(committed.get(0).key());

    String output =
        containerd.ctr(
            "run",
            "--rm",
            "--snapshotter",
            "lazypull",
            image,
            "pull-and-run",
            "/bin/sh",
            "-c",
            "cat /etc/greeting; ls /etc; echo written > /etc/new; cat /etc/new");
    assertThat(output).isEqualTo("hello from the top layer\ngreeting\nwritten\n");

    // The container's active snapshot went with --rm; removing the image lets containerd's
    // garbage collector remove the committed layers through the snapshotter too.
    containerd.ctr("images", "rm", "--sync", image);
    assertThat(snapshotter.list(List.of())).isEmpty();
    assertThat(containerd.mountsLeft()).isEmpty();
    try (var left = Files.list(dir.resolve("lazypull/snapshots"))) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void lazypullPull_indexedImageRunsWithoutLayerBlobsInContainerd() throws Exception {
    var out = new java.io.StringWriter();
    var cli = dev.lazypull.cli.Main.newCommandLine();
    cli.setOut(new java.io.PrintWriter(out));
    int exit =
        cli.execute(
            "pull",
            "--address",
            containerd.socket().toString(),
            "-n",
            Containerd.NAMESPACE,
            indexedImage);
    assertThat(exit).as(out.toString()).isZero();
    assertThat(out.toString()).contains("pulled " + indexedImage);

    assertThat(containerd.ctr("images", "ls", "-q")).contains(indexedImage);
    String content = containerd.ctr("content", "ls", "-q");
    for (var layer :
        RegistryClient.create(RegistryOptions.defaults())
            .resolveManifest(registry.reference("busybox:soci"))
            .imageManifest()
            .layers()) {
      assertThat(content)
          .as("containerd's content store")
          .doesNotContain(layer.digest().toString());
    }
    List<Snapshot> remote = snapshotter.list(List.of("labels.\"" + SnapshotLabels.REMOTE + "\""));
    assertThat(remote)
        .hasSize(2)
        .allSatisfy(s -> assertThat(s.kind()).isEqualTo(SnapshotKind.COMMITTED));

    String output =
        containerd.ctr(
            "run",
            "--rm",
            "--snapshotter",
            "lazypull",
            indexedImage,
            "lazy-run",
            "/bin/sh",
            "-c",
            "cat /etc/greeting; ls /etc");
    assertThat(output).isEqualTo("hello from the top layer\ngreeting\n");

    containerd.ctr("images", "rm", "--sync", indexedImage);
    assertThat(snapshotter.list(List.of())).isEmpty();
    assertThat(Containerd.mountsUnder(dir)).isEmpty();
  }

  @Test
  void lazypullPull_imageWithoutIndex_isDownloadedAndUnpackedByContainerd() throws Exception {
    BusyboxImage.pushSibling(registry, "unindexed:1", "");
    String unindexed = registry.reference("unindexed:1").toString();
    assertThat(
            dev.lazypull.cli.Main.newCommandLine()
                .execute(
                    "pull",
                    "--address",
                    containerd.socket().toString(),
                    "-n",
                    Containerd.NAMESPACE,
                    unindexed))
        .isZero();

    String content = containerd.ctr("content", "ls", "-q");
    for (var layer :
        RegistryClient.create(RegistryOptions.defaults())
            .resolveManifest(registry.reference("unindexed:1"))
            .imageManifest()
            .layers()) {
      assertThat(content).as("layer blobs containerd holds").contains(layer.digest().toString());
    }
    assertThat(snapshotter.list(List.of("kind==committed")))
        .hasSize(2)
        .noneSatisfy(s -> assertThat(s.isRemote()).isTrue());
    String output =
        containerd.ctr(
            "run",
            "--rm",
            "--snapshotter",
            "lazypull",
            unindexed,
            "unindexed-run",
            "/bin/sh",
            "-c",
            "cat /etc/greeting; ls /etc");
    assertThat(output).isEqualTo(BusyboxImage.SIBLING_GREETING + "greeting\n");

    containerd.ctr("images", "rm", "--sync", unindexed);
    assertThat(snapshotter.list(List.of())).isEmpty();
  }

  @Test
  void lazypullPull_debianMinbaseRunsFromLazyLayers() throws Exception {
    String debian = ContainerdCriIT.pushIndexedDebian(registry, "debian");
    // Everything the registry sends from here on counts: manifests, index, zTOCs, spans.
    int before = registry.settledRequestCount();
    long startNanos = System.nanoTime();

    assertThat(
            dev.lazypull.cli.Main.newCommandLine()
                .execute(
                    "pull",
                    "--address",
                    containerd.socket().toString(),
                    "-n",
                    Containerd.NAMESPACE,
                    debian))
        .isZero();
    String output =
        containerd.ctr(
            "run",
            "--rm",
            "--snapshotter",
            "lazypull",
            debian,
            "debian-run",
            "sh",
            "-c",
            "cat /etc/debian_version; cat /proc/self/mountinfo");
    long millis = (System.nanoTime() - startNanos) / 1_000_000;
    assertThat(output).matches("(?s)12\\.\\d+\\n.*");

    var layers =
        RegistryClient.create(RegistryOptions.defaults())
            .resolveManifest(registry.reference("debian:soci"))
            .imageManifest()
            .layers();
    List<String> lowerDirs = LazypullMounts.rootLowerDirs(output);
    assertThat(lowerDirs).hasSize(layers.size());
    assertThat(LazypullMounts.mountPoints(dir)).containsAll(lowerDirs);
    String content = containerd.ctr("content", "ls", "-q");
    for (var layer : layers) {
      assertThat(content).doesNotContain(layer.digest().toString());
    }

    long imageBytes = layers.stream().mapToLong(Descriptor::size).sum();
    registry.settledRequestCount();
    List<LocalRegistry.ServedRequest> served =
        registry.servedRequests().stream().skip(before).toList();
    long fetched = served.stream().mapToLong(LocalRegistry.ServedRequest::bodyBytes).sum();
    System.out.printf(
        "ctr: lazypull pull to exit %d ms; the registry sent %d bytes, %.1f%% of the image's %d%n",
        millis, fetched, fetched * 100.0 / imageBytes, imageBytes);
    assertThat(fetched)
        .as(
            "bytes the registry sent (every request) against the image's %d: %s",
            imageBytes, served)
        .isPositive()
        .isLessThan(imageBytes / 4);

    containerd.ctr("images", "rm", "--sync", debian);
    assertThat(snapshotter.list(List.of())).isEmpty();
    assertThat(LazypullMounts.mountPoints(dir)).isEmpty();
  }
}
