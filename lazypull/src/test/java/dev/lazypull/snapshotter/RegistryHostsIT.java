package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.NotFoundException;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.registry.RegistryUnavailableException;
import dev.lazypull.registry.ResolvedImage;
import dev.lazypull.testing.Containerd;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestCertificates;
import dev.lazypull.testing.TestImage;
import dev.lazypull.testing.TestLayers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
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
 * The snapshotter's registry configuration on real registries: containerd hosts.toml mirrors and
 * the config's own mirrors table, tried before the registry an image reference names, and TLS
 * endpoints reached with a hosts.toml {@code ca} or {@code skip_verify}. Which registry served what
 * is counted from their access logs.
 */
class RegistryHostsIT {
  @RegisterExtension static final LocalRegistry mirror = LocalRegistry.create();
  @RegisterExtension static final LocalRegistry upstream = LocalRegistry.create();
  private static final byte[] UPSTREAM_LAYER = smallLayer("upstream");
  @TempDir Path dir;
  private Snapshotter snapshotter;

  @BeforeAll
  static void pushImages() throws Exception {
    // Only the mirror has the busybox image; the upstream has another one, for the 404 fallback.
    BusyboxImage.push(mirror, "app:plain", "app:soci");
    TestImage.push(
        RegistryClient.create(RegistryOptions.defaults()),
        upstream.reference("only:up"),
        List.of(UPSTREAM_LAYER));
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

  @Test
  void snapshotter_upstreamLacksTheImage_resolvesAndReadsThroughTheHostsTomlMirror()
      throws Exception {
    hostsToml(
        upstream.hostPort(),
        """
        server = "http://%s"
        [host."http://%s"]
          capabilities = ["pull", "resolve"]
        """
            .formatted(upstream.hostPort(), mirror.hostPort()));
    Path config = configToml("config_path = \"" + dir.resolve("certs.d") + "\"\n");

    readBusyboxThroughSnapshotter(config, upstream.reference("app:soci"));
  }

  @Test
  void snapshotter_upstreamDown_readsThroughTheConfigMirrorsTable() throws Exception {
    String down = "127.0.0.1:" + closedPort();
    Path config =
        configToml("mirrors = { \"%s\" = [\"http://%s\"] }\n".formatted(down, mirror.hostPort()));

    readBusyboxThroughSnapshotter(config, ImageReference.parse(down + "/app:soci"));
  }

  @Test
  void cli_hostsDir_readsTheIndexThroughTheMirror() throws Exception {
    hostsToml(
        upstream.hostPort(),
        "[host.\"http://%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
            .formatted(mirror.hostPort()));
    int upstreamBefore = upstream.settledRequestCount();
    String image = upstream.reference("app:soci").toString();

    assertThat(
            dev.lazypull.cli.Main.newCommandLine()
                .execute("index", "info", "--hosts-dir", dir.resolve("certs.d").toString(), image))
        .isZero();
    assertThat(upstream.settledRequestCount()).isEqualTo(upstreamBefore);
    assertThat(dev.lazypull.cli.Main.newCommandLine().execute("index", "info", image))
        .as("without the mirror the upstream lacks the image")
        .isEqualTo(1);
  }

  /** Mounts the busybox layer of {@code image} lazily and reads it; the mirror serves it all. */
  private void readBusyboxThroughSnapshotter(Path config, ImageReference image) throws Exception {
    Descriptor busyboxLayer =
        RegistryClient.create(RegistryOptions.defaults())
            .resolveManifest(mirror.reference("app:soci"))
            .imageManifest()
            .layers()
            .getFirst();
    int upstreamBefore = upstream.settledRequestCount();
    int mirrorBefore = mirror.settledRequestCount();
    SnapshotterConfig settings = SnapshotterConfig.load(config);
    var client =
        RegistryClient.create(settings.registryOptions(RegistryOptions.defaults(), config));
    snapshotter =
        Snapshotter.open(
            dir.resolve("root"),
            new RemoteLayerMounter(client, dir.resolve("cache"), 64 << 20, Duration.ofSeconds(30)));

    Map<String, String> labels = new HashMap<>();
    labels.put(SnapshotLabels.TARGET_REF, "c1");
    labels.put(SnapshotLabels.IMAGE_REF, image.toString());
    labels.put(SnapshotLabels.LAYER_DIGEST, busyboxLayer.digest().toString());
    assertThatThrownBy(() -> snapshotter.prepare("ns/1/extract", "", labels))
        .isInstanceOf(SnapshotException.class)
        .extracting(e -> ((SnapshotException) e).reason())
        .isEqualTo(SnapshotException.Reason.ALREADY_EXISTS);
    assertThat(snapshotter.stat("c1").isRemote()).as("served lazily").isTrue();
    Path layer = Path.of(snapshotter.view("ns/2/view", "c1", Map.of()).getFirst().source());
    assertThat(Files.readAllBytes(layer.resolve("bin/busybox")))
        .isEqualTo(Files.readAllBytes(BusyboxImage.BUSYBOX));

    List<LocalRegistry.ServedRequest> fromMirror =
        mirror.awaitServedRequests(mirrorBefore + 1).stream().skip(mirrorBefore).toList();
    assertThat(fromMirror)
        .as("the mirror resolved the tag and served the layer's ranges")
        .anyMatch(r -> r.uri().endsWith("/manifests/soci") && r.status() == 200)
        .anyMatch(r -> r.uri().contains(busyboxLayer.digest().toString()) && r.status() == 206);
    assertThat(upstream.settledRequestCount())
        .as("requests to the upstream")
        .isEqualTo(upstreamBefore);
    snapshotter.remove("ns/2/view");
    snapshotter.remove("c1");
  }

  @Test
  void client_deadMirrorThenMirrorThenUpstream_eachReadGoesOnToTheNextEndpoint() throws Exception {
    String dead = "127.0.0.1:" + closedPort();
    hostsToml(
        upstream.hostPort(),
        """
        [host."http://%s"]
        [host."http://%s"]
          capabilities = ["pull", "resolve"]
        """
            .formatted(dead, mirror.hostPort()));
    RegistryClient client = clientFromConfig("config_path = \"" + dir.resolve("certs.d") + "\"\n");
    int upstreamBefore = upstream.settledRequestCount();

    // On the mirror only: past the dead endpoint, served by the mirror.
    ResolvedImage busybox = client.resolveManifest(upstream.reference("app:plain"));
    Descriptor layer = busybox.imageManifest().layers().getFirst();
    byte[] expected;
    try (InputStream in =
        RegistryClient.create(RegistryOptions.defaults())
            .openRange(mirror.reference("app:plain"), layer.digest(), layer.size(), 1000, 100)) {
      expected = in.readAllBytes();
    }
    try (InputStream in =
        client.openRange(
            upstream.reference("app:plain"), layer.digest(), layer.size(), 1000, 100)) {
      assertThat(in.readAllBytes()).isEqualTo(expected);
    }
    assertThat(upstream.settledRequestCount()).isEqualTo(upstreamBefore);

    // On the upstream only: the mirror answers 404 and the upstream serves it.
    int mirrorBefore = mirror.settledRequestCount();
    ResolvedImage onlyUp = client.resolveManifest(upstream.reference("only:up"));
    var out = new ByteArrayOutputStream();
    client.fetchBlob(
        upstream.reference("only:up"), onlyUp.imageManifest().layers().getFirst(), out);
    assertThat(out.toByteArray()).isEqualTo(UPSTREAM_LAYER);
    assertThat(mirror.awaitServedRequests(mirrorBefore + 2).stream().skip(mirrorBefore))
        .as("the mirror was asked first and lacked it")
        .anyMatch(r -> r.uri().endsWith("/only/manifests/up") && r.status() == 404)
        .anyMatch(r -> r.uri().contains("/only/blobs/") && r.status() == 404);
    assertThat(upstream.awaitServedRequests(upstreamBefore + 2).stream().skip(upstreamBefore))
        .anyMatch(r -> r.uri().endsWith("/only/manifests/up") && r.status() == 200)
        .anyMatch(r -> r.uri().contains("/only/blobs/") && r.status() == 200);

    // Nowhere: one line naming every endpoint tried and what each said.
    assertThatThrownBy(() -> client.resolveManifest(upstream.reference("app:missing")))
        .isInstanceOf(NotFoundException.class)
        .hasMessageStartingWith(
            "fetch manifest " + upstream.reference("app:missing") + ": not found")
        .hasMessageContaining("tried first: http://" + dead + "/v2/: ")
        .hasMessageContaining(", http://" + mirror.hostPort() + "/v2/: not found (HTTP 404")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void client_tlsRegistry_reachedWithCaOrSkipVerify_refusedWithNeither() throws Exception {
    TestCertificates certificates = TestCertificates.create(dir.resolve("pki"));
    try (var secure = LocalRegistry.withTls(certificates).start()) {
      String host = secure.hostPort();
      ImageReference image = secure.reference("tls:1");
      byte[] layer = smallLayer("over tls");

      // ca relative to the hosts.toml's directory; pushes go over TLS too.
      Path withCa = dir.resolve("with-ca");
      hostsToml(withCa, host, "server = \"https://%s\"\nca = \"ca.crt\"\n".formatted(host));
      Files.copy(certificates.caCertificate(), withCa.resolve(host).resolve("ca.crt"));
      RegistryClient trusting = clientFromConfig("config_path = \"" + withCa + "\"\n");
      TestImage.push(trusting, image, List.of(layer));
      assertLayerReads(trusting, image, layer);

      Path skipping = dir.resolve("skip");
      hostsToml(skipping, host, "server = \"https://%s\"\nskip_verify = true\n".formatted(host));
      assertLayerReads(clientFromConfig("config_path = \"" + skipping + "\"\n"), image, layer);

      // A TLS mirror with an absolute ca path, for a registry that is down.
      String down = "127.0.0.1:" + closedPort();
      Path mirrored = dir.resolve("mirrored");
      hostsToml(
          mirrored,
          down,
          "[host.\"https://%s\"]\n  ca = \"%s\"\n".formatted(host, certificates.caCertificate()));
      RegistryClient viaMirror = clientFromConfig("config_path = \"" + mirrored + "\"\n");
      assertLayerReads(viaMirror, ImageReference.parse(down + "/tls:1"), layer);

      Path neither = dir.resolve("neither");
      hostsToml(neither, host, "server = \"https://%s\"\n".formatted(host));
      RegistryClient untrusting = clientFromConfig("config_path = \"" + neither + "\"\n");
      int before = secure.settledRequestCount();
      assertThatThrownBy(() -> untrusting.resolveManifest(image))
          .isInstanceOf(RegistryUnavailableException.class)
          .hasMessageStartingWith("fetch manifest " + image + " via https://" + host + "/v2/: ")
          .hasMessageContaining("the TLS certificate of " + host + " is not trusted")
          .hasMessageContaining("ca = ")
          .hasMessageContaining("skip_verify = true")
          .hasMessageContaining(neither.resolve(host).resolve("hosts.toml").toString())
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
      assertThat(secure.settledRequestCount()).as("no request got through").isEqualTo(before);
    }
  }

  private static void assertLayerReads(RegistryClient client, ImageReference image, byte[] layer)
      throws Exception {
    Descriptor descriptor = client.resolveManifest(image).imageManifest().layers().getFirst();
    assertThat(client.fetchBlobBytes(image, descriptor)).isEqualTo(layer);
    try (InputStream in = client.openRange(image, descriptor.digest(), descriptor.size(), 10, 20)) {
      assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOfRange(layer, 10, 30));
    }
  }

  private RegistryClient clientFromConfig(String registrySection) throws IOException {
    Path config = configToml(registrySection);
    return RegistryClient.create(
        SnapshotterConfig.load(config).registryOptions(RegistryOptions.defaults(), config));
  }

  private Path configToml(String registrySection) throws IOException {
    return Files.writeString(
        Files.createTempFile(dir, "config", ".toml"), "[registry]\n" + registrySection);
  }

  private void hostsToml(String namespace, String text) throws IOException {
    hostsToml(dir.resolve("certs.d"), namespace, text);
  }

  private static void hostsToml(Path configPath, String namespace, String text) throws IOException {
    Path hostDir = Files.createDirectories(configPath.resolve(namespace));
    Files.writeString(hostDir.resolve("hosts.toml"), text);
  }

  /** A loopback port nothing listens on: a registry that is down. */
  private static int closedPort() throws IOException {
    try (var socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static byte[] smallLayer(String text) {
    var tar = TestLayers.tar().dir("etc");
    tar.file("etc/greeting", (text + "\n").repeat(20).getBytes(StandardCharsets.UTF_8));
    return TestLayers.gzip(tar.build().bytes());
  }
}
