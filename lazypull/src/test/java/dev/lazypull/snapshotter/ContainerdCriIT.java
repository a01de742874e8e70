package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.containerd.ContainerdConnection;
import dev.lazypull.containerd.api.cri.ImageServiceGrpc;
import dev.lazypull.containerd.api.cri.ImageSpec;
import dev.lazypull.containerd.api.cri.PullImageRequest;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.Containerd;
import dev.lazypull.testing.LocalRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes path: containerd 1.6's CRI plugin pulls a SOCI-indexed image with the lazypull
 * snapshotter (snapshot annotations on); the CRI labels reach the snapshotter, every layer becomes
 * a remote snapshot and containerd downloads no layer blob.
 */
class ContainerdCriIT {
  private static final String CRI_NAMESPACE = "k8s.io";

  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();
  @TempDir static Path dir;
  static Snapshotter snapshotter;
  static SnapshotterServer server;
  static Containerd containerd;

  @BeforeAll
  static void start() throws Exception {
    BusyboxImage.push(registry, "cri:plain", "cri:soci");
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
        Containerd.startWithCri(dir.resolve("containerd"), server.socket(), registry.hostPort());
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
  void criPullImage_layersAreRemoteSnapshotsAndNoLayerBlobIsDownloaded() throws Exception {
    String image = registry.reference("cri:soci").toString();
    String imageRef;
    try (var connection = ContainerdConnection.open(containerd.socket())) {
      imageRef =
          ImageServiceGrpc.newBlockingStub(connection.channel(CRI_NAMESPACE, null))
              .withDeadlineAfter(120, TimeUnit.SECONDS)
              .pullImage(
                  PullImageRequest.newBuilder()
                      .setImage(ImageSpec.newBuilder().setImage(image))
                      .build())
              .getImageRef();
    }
    assertThat(imageRef).startsWith("sha256:");

    List<Snapshot> remote = snapshotter.list(List.of("labels.\"" + SnapshotLabels.REMOTE + "\""));
    assertThat(remote).hasSize(2);
    assertThat(remote)
        .allSatisfy(s -> assertThat(s.labels()).containsKey(SnapshotLabels.IMAGE_REF));
    String content = containerd.ctrIn(CRI_NAMESPACE, "content", "ls", "-q");
    for (var layer :
        RegistryClient.create(RegistryOptions.defaults())
            .resolveManifest(registry.reference("cri:soci"))
            .imageManifest()
            .layers()) {
      assertThat(content).doesNotContain(layer.digest().toString());
    }

    String output =
        containerd.ctrIn(
            CRI_NAMESPACE,
            "run",
            "--rm",
            "--snapshotter",
            "lazypull",
            image,
            "cri-run",
            "/bin/cat",
            "/etc/greeting");
    assertThat(output).isEqualTo(BusyboxImage.TOP_GREETING);
  }
}
