package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.Containerd;
import dev.lazypull.testing.DebianImages;
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
  void lazypullPull_debianMinbaseRunsFromLazyLayers() throws Exception {
    String source = registry.reference("debian:minbase").toString();
    DebianImages.pushToRegistry(DebianImages.minbase(), DebianImages.TAG, source);
    String debian = registry.reference("debian:soci").toString();
    assertThat(
            dev.lazypull.cli.Main.newCommandLine()
                .execute("convert", "--min-layer-size", "1000000", source, debian))
        .isZero();
    int before = registry.awaitServedRequests(0).size();

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
            "cat /etc/debian_version; id -un");
    assertThat(output).matches("12\\.\\d+\\nroot\\n");

    var layer =
        RegistryClient.create(RegistryOptions.defaults())
            .resolveManifest(registry.reference("debian:soci"))
            .imageManifest()
            .layers()
            .getFirst();
    long fetched =
        registry.servedRequests().stream()
            .skip(before)
            .filter(r -> r.uri().contains(layer.digest().toString()))
            .mapToLong(LocalRegistry.ServedRequest::bodyBytes)
            .sum();
    assertThat(fetched)
        .as("bytes of the Debian layer fetched to run sh")
        .isLessThan(layer.size() / 2);

    containerd.ctr("images", "rm", "--sync", debian);
    assertThat(snapshotter.list(List.of())).isEmpty();
  }
}
