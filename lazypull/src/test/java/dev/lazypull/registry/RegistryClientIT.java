package dev.lazypull.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageIndex;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import dev.lazypull.oci.Platform;
import dev.lazypull.testing.CountingProxy;
import dev.lazypull.testing.LocalRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The client against the real Debian docker-registry on loopback. */
class RegistryClientIT {

  @RegisterExtension static final LocalRegistry REGISTRY = LocalRegistry.create();

  private static final RegistryOptions OPTIONS =
      RegistryOptions.defaults()
          .withCredentials(CredentialSource.NONE)
          .withPlatform(Platform.parse("linux/amd64"))
          .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(20));

  private final RegistryClient client = RegistryClient.create(OPTIONS);

  @TempDir Path tmp;

  static byte[] randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  static Descriptor blobOf(byte[] bytes, String mediaType) {
    return Descriptor.of(mediaType, Digest.sha256(bytes), bytes.length);
  }

  /** Pushes a one-layer image and returns its manifest's bytes. */
  static byte[] pushImage(RegistryClient client, ImageReference ref, byte[] layer, String arch)
      throws RegistryException {
    byte[] config =
        ("{\"architecture\":\""
                + arch
                + "\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                + "\"diff_ids\":[\""
                + Digest.sha256(layer)
                + "\"]}}")
            .getBytes(StandardCharsets.UTF_8);
    Descriptor configBlob = blobOf(config, MediaTypes.OCI_CONFIG);
    Descriptor layerBlob = blobOf(layer, MediaTypes.OCI_LAYER);
    client.pushBlob(ref, configBlob, RequestBody.of(config), null);
    client.pushBlob(ref, layerBlob, RequestBody.of(layer), null);
    ImageManifest manifest =
        ImageManifest.of(MediaTypes.OCI_MANIFEST, configBlob, List.of(layerBlob), null)
            .withAnnotations(Map.of("org.example.kept", "yes"));
    byte[] bytes = OciJson.write(manifest);
    client.pushManifest(ref, MediaTypes.OCI_MANIFEST, bytes);
    return bytes;
  }

  @Test
  void pushBlob_monolithicThenHeadSkips() throws Exception {
    var repo = REGISTRY.reference("mono/app:1");
    byte[] bytes = randomBytes(300_000, 1);
    Descriptor blob = blobOf(bytes, MediaTypes.OCI_LAYER);

    assertThat(client.blobExists(repo, blob.digest())).isFalse();
    assertThat(client.pushBlob(repo, blob, RequestBody.of(bytes), null))
        .isEqualTo(BlobPushOutcome.UPLOADED);
    assertThat(client.blobExists(repo, blob.digest())).isTrue();
    assertThat(client.pushBlob(repo, blob, RequestBody.of(bytes), null))
        .isEqualTo(BlobPushOutcome.ALREADY_PRESENT);
    assertThat(client.fetchBlobBytes(repo, blob)).isEqualTo(bytes);
  }

  @Test
  void pushBlobChunked_fromFile_roundTrips() throws Exception {
    var repo = REGISTRY.reference("chunked/app:1");
    byte[] bytes = randomBytes(1_000_003, 2);
    Path file = tmp.resolve("blob");
    Files.write(file, bytes);
    Descriptor blob = blobOf(bytes, MediaTypes.OCI_LAYER);

    assertThat(
            client.pushBlobChunked(
                repo, blob, RequestBody.ofFile(file, 0, bytes.length), 256 * 1024))
        .isEqualTo(BlobPushOutcome.UPLOADED);

    Path fetched = tmp.resolve("fetched");
    client.fetchBlob(repo, blob, fetched);
    assertThat(fetched).hasBinaryContent(bytes);
  }

  @Test
  void pushBlob_mountFromOtherRepository_sendsNoBytes() throws Exception {
    var source = REGISTRY.reference("mount/source:1");
    var target = REGISTRY.reference("mount/target:1");
    byte[] bytes = randomBytes(50_000, 3);
    Descriptor blob = blobOf(bytes, MediaTypes.OCI_LAYER);
    client.pushBlob(source, blob, RequestBody.of(bytes), null);

    assertThat(client.pushBlob(target, blob, RequestBody.of(bytes), "mount/source"))
        .isEqualTo(BlobPushOutcome.MOUNTED);
    assertThat(client.blobExists(target, blob.digest())).isTrue();
  }

  @Test
  void pushBlob_mountFromRepositoryWithoutBlob_fallsBackToUpload() throws Exception {
    var target = REGISTRY.reference("mount/fallback:1");
    byte[] bytes = randomBytes(40_000, 4);
    Descriptor blob = blobOf(bytes, MediaTypes.OCI_LAYER);

    assertThat(client.pushBlob(target, blob, RequestBody.of(bytes), "mount/nowhere"))
        .isEqualTo(BlobPushOutcome.UPLOADED);
    assertThat(client.fetchBlobBytes(target, blob)).isEqualTo(bytes);
  }

  @Test
  void pushManifest_byTagAndDigest_roundTripsBytesAndAnnotations() throws Exception {
    var ref = REGISTRY.reference("manifests/app:v1");
    byte[] sent = pushImage(client, ref, randomBytes(10_000, 5), "amd64");

    FetchedManifest fetched = client.fetchManifest(ref);
    assertThat(fetched.bytes()).isEqualTo(sent);
    assertThat(fetched.digest()).isEqualTo(Digest.sha256(sent));
    assertThat(fetched.manifest().annotationsOrEmpty()).containsEntry("org.example.kept", "yes");

    client.tag(fetched, "v2");
    assertThat(client.listTags(ref)).containsExactlyInAnyOrder("v1", "v2");
    var byDigest = client.fetchManifest(ref.withDigest(fetched.digest()));
    assertThat(byDigest.bytes()).isEqualTo(sent);
    PushedManifest again =
        client.pushManifest(ref.withDigest(fetched.digest()), fetched.mediaType(), sent);
    assertThat(again.digest()).isEqualTo(fetched.digest());
  }

  @Test
  void deleteManifest_byDigest_goneAfterwards() throws Exception {
    var ref = REGISTRY.reference("deleted/app:1");
    byte[] manifest = pushImage(client, ref, randomBytes(100, 14), "amd64");
    var byDigest = ref.withDigest(Digest.sha256(manifest));

    client.deleteManifest(byDigest);

    assertThatThrownBy(() -> client.fetchManifest(byDigest)).isInstanceOf(NotFoundException.class);
    client.deleteManifest(byDigest);
  }

  @Test
  void resolveManifest_index_picksRequestedPlatform() throws Exception {
    var repo = REGISTRY.reference("multi/app:1");
    byte[] amd = pushImage(client, repo.withTag("amd64"), randomBytes(1000, 6), "amd64");
    byte[] arm = pushImage(client, repo.withTag("arm64"), randomBytes(1000, 7), "arm64");
    ImageIndex index =
        ImageIndex.of(
            List.of(
                entry(amd, new Platform("amd64", "linux", null)),
                entry(arm, new Platform("arm64", "linux", "v8"))));
    client.pushManifest(repo, MediaTypes.OCI_INDEX, OciJson.write(index));

    ResolvedImage host = client.resolveManifest(repo);
    ResolvedImage armImage = client.resolveManifest(repo, Platform.parse("linux/arm64"));

    assertThat(host.manifest().digest()).isEqualTo(Digest.sha256(amd));
    assertThat(host.index()).isNotNull();
    assertThat(armImage.manifest().digest()).isEqualTo(Digest.sha256(arm));
    assertThat(client.fetchConfig(armImage).architecture()).isEqualTo("arm64");
    assertThat(client.fetchConfig(armImage).diffIds()).hasSize(1);
    assertThatThrownBy(() -> client.resolveManifest(repo, Platform.parse("linux/s390x")))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("linux/s390x")
        .hasMessageContaining("linux/amd64, linux/arm64/v8");
  }

  private static Descriptor entry(byte[] manifest, Platform platform) {
    return new Descriptor(
        MediaTypes.OCI_MANIFEST,
        Digest.sha256(manifest),
        manifest.length,
        null,
        null,
        platform,
        null);
  }

  @Test
  void openRange_readsExactBytesIncludingLastAndClampsToSize() throws Exception {
    var repo = REGISTRY.reference("ranges/app:1");
    byte[] bytes = randomBytes(2_000_000, 8);
    Descriptor blob = blobOf(bytes, MediaTypes.OCI_LAYER);
    client.pushBlob(repo, blob, RequestBody.of(bytes), null);

    assertThat(readRange(repo, blob, 12_345, 100_000)).isEqualTo(slice(bytes, 12_345, 100_000));
    assertThat(readRange(repo, blob, bytes.length - 1, 1))
        .isEqualTo(slice(bytes, bytes.length - 1, 1));
    // Asking past the end is clamped: the registry is never asked for bytes it does not have.
    assertThat(readRange(repo, blob, bytes.length - 10, 4096))
        .isEqualTo(slice(bytes, bytes.length - 10, 10));
    assertThatThrownBy(() -> readRange(repo, blob, bytes.length, 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void openRange_throughCountingProxy_registrySendsOnlyTheRange() throws Exception {
    var direct = REGISTRY.reference("counted/app:1");
    byte[] bytes = randomBytes(3_000_000, 9);
    Descriptor blob = blobOf(bytes, MediaTypes.OCI_LAYER);
    client.pushBlob(direct, blob, RequestBody.of(bytes), null);

    try (var proxy = CountingProxy.to(REGISTRY.port())) {
      var viaProxy = ImageReference.parse(proxy.hostPort() + "/counted/app:1");
      var counted = RegistryClient.create(OPTIONS);
      assertThat(readWith(counted, viaProxy, blob, 1_000_000, 65_536))
          .isEqualTo(slice(bytes, 1_000_000, 65_536));
      assertThat(counted.bytesReceived()).isEqualTo(65_536);
      assertThat(proxy.bytesFromServer()).isBetween(65_536L, 65_536L + 2048);
      // A second read reuses the kept-alive connection.
      assertThat(readWith(counted, viaProxy, blob, 5, 10)).isEqualTo(slice(bytes, 5, 10));
      assertThat(proxy.connections()).isEqualTo(1);
    }
  }

  @Test
  void fetchManifest_unknownTagOrRepository_oneLineNotFound() {
    assertThatThrownBy(() -> client.fetchManifest(REGISTRY.reference("nosuch/app:1")))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("nosuch/app:1")
        .hasMessageContaining("check the repository name and tag")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void fetchBlob_unknownBlob_notFound() {
    var repo = REGISTRY.reference("nosuch/blob:1");
    Descriptor blob = blobOf(new byte[] {1, 2, 3}, MediaTypes.OCI_LAYER);
    assertThatThrownBy(() -> client.fetchBlobBytes(repo, blob))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining(blob.digest().toString());
  }

  @Test
  void fetchBlob_wrongDescriptorDigest_digestMismatch() throws Exception {
    var repo = REGISTRY.reference("mismatch/app:1");
    byte[] bytes = randomBytes(1000, 10);
    Descriptor blob = blobOf(bytes, MediaTypes.OCI_LAYER);
    client.pushBlob(repo, blob, RequestBody.of(bytes), null);
    // The registry rejects a wrong digest at upload; a wrong size is what a client can get wrong.
    Descriptor wrongSize = Descriptor.of(blob.mediaType(), blob.digest(), 999);
    assertThatThrownBy(() -> client.fetchBlobBytes(repo, wrongSize))
        .isInstanceOf(RegistryProtocolException.class)
        .hasMessageContaining("1000 bytes");
  }

  @Test
  void referrers_debianRegistry_reportsAbsence() throws Exception {
    var ref = REGISTRY.reference("referrers/app:1");
    byte[] manifest = pushImage(client, ref, randomBytes(100, 11), "amd64");
    assertThat(client.referrers(ref, Digest.sha256(manifest), null)).isEmpty();
    assertThat(RegistryClient.referrersTag(Digest.sha256(manifest)))
        .isEqualTo("sha256-" + Digest.sha256(manifest).hex());
  }

  @Test
  void basicAuth_goodCredentialsWork_wrongOnesRefused() throws Exception {
    String secret = "s3cret-Pa55-never-logged";
    try (var secured = LocalRegistry.withBasicAuth("alice", secret).start()) {
      var ref = secured.reference("private/app:1");
      var good =
          RegistryClient.create(
              OPTIONS.withCredentials(CredentialSource.fixed(new Credentials("alice", secret))));
      byte[] manifest = pushImage(good, ref, randomBytes(100, 12), "amd64");
      assertThat(good.fetchManifest(ref).bytes()).isEqualTo(manifest);

      var wrong =
          RegistryClient.create(
              OPTIONS.withCredentials(
                  CredentialSource.fixed(new Credentials("alice", "wrong-" + secret))));
      assertThatThrownBy(() -> wrong.fetchManifest(ref))
          .isInstanceOf(UnauthorizedException.class)
          .hasMessageContaining("refused")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain(secret));
      var anonymous = RegistryClient.create(OPTIONS);
      assertThatThrownBy(() -> anonymous.fetchManifest(ref))
          .isInstanceOf(UnauthorizedException.class)
          .hasMessageContaining("none are configured");
    }
  }

  @Test
  void localRegistry_logsServedRequests() throws Exception {
    var repo = REGISTRY.reference("served/app:1");
    byte[] bytes = randomBytes(4096, 13);
    Descriptor blob = blobOf(bytes, MediaTypes.OCI_LAYER);
    client.pushBlob(repo, blob, RequestBody.of(bytes), null);
    int before = REGISTRY.settledRequestCount();
    readRange(repo, blob, 100, 1000);
    var served = REGISTRY.awaitServedRequests(before + 1);
    var last = served.get(served.size() - 1);
    assertThat(last.status()).isEqualTo(206);
    assertThat(last.bodyBytes()).isEqualTo(1000);
    assertThat(last.uri()).contains(blob.digest().toString());
  }

  private byte[] readRange(ImageReference repo, Descriptor blob, long offset, long length)
      throws RegistryException, IOException {
    return readWith(client, repo, blob, offset, length);
  }

  private static byte[] readWith(
      RegistryClient client, ImageReference repo, Descriptor blob, long offset, long length)
      throws RegistryException, IOException {
    try (InputStream in = client.openRange(repo, blob.digest(), blob.size(), offset, length)) {
      var out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toByteArray();
    }
  }

  private static byte[] slice(byte[] bytes, int offset, int length) {
    return java.util.Arrays.copyOfRange(bytes, offset, offset + length);
  }
}
