package dev.lazypull.registry;

import static dev.lazypull.registry.CannedServer.respond;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Protocol edge cases against a loopback server with canned answers. */
class RegistryProtocolTest {

  private static final String SECRET = "Very-Secret-Passw0rd";
  private static final String TOKEN_PREFIX = "tok-secret-";
  private static final byte[] BLOB = randomBytes(10_000);
  private static final Digest DIGEST = Digest.sha256(BLOB);
  private static final RegistryOptions OPTIONS =
      RegistryOptions.defaults()
          .withCredentials(CredentialSource.NONE)
          .withPlatform(Platform.parse("linux/amd64"))
          .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5))
          .withRetryPolicy(
              new RetryPolicy(
                  3, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofSeconds(5)));

  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger rootLogger = (Logger) LoggerFactory.getLogger("dev.lazypull");

  @TempDir Path tmp;

  @BeforeEach
  void captureLogs() {
    logs.start();
    rootLogger.addAppender(logs);
    rootLogger.setLevel(Level.DEBUG);
  }

  @AfterEach
  void checkNoSecretLogged() {
    rootLogger.detachAppender(logs);
    String basic =
        Base64.getEncoder().encodeToString(("alice:" + SECRET).getBytes(StandardCharsets.UTF_8));
    for (ILoggingEvent event : logs.list) {
      assertThat(event.getFormattedMessage())
          .doesNotContain(SECRET)
          .doesNotContain(basic)
          .doesNotContain(TOKEN_PREFIX);
    }
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(42).nextBytes(bytes);
    return bytes;
  }

  private static ImageReference repo(CannedServer server) {
    return ImageReference.parse(server.hostPort() + "/team/app:1");
  }

  private static byte[] read(InputStream in) throws IOException {
    try (in) {
      return in.readAllBytes();
    }
  }

  private static String blobPath() {
    return "/v2/team/app/blobs/" + DIGEST;
  }

  private static CredentialSource alice() {
    return CredentialSource.fixed(new Credentials("alice", SECRET));
  }

  @Test
  void bearer_challengeThenTokenWithCredentials() throws Exception {
    AtomicInteger tokens = new AtomicInteger();
    try (var server =
        new CannedServer(
            ex -> {
              if (ex.getRequestURI().getPath().equals("/token")) {
                tokens.incrementAndGet();
                respond(ex, 200, "{\"token\":\"" + TOKEN_PREFIX + "1\",\"expires_in\":300}");
              } else if (!("Bearer " + TOKEN_PREFIX + "1")
                  .equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                respond(ex, 401, Map.of("WWW-Authenticate", bearer(ex)), new byte[0]);
              } else {
                respond(ex, 200, Map.of(), BLOB);
              }
            })) {
      var client = RegistryClient.create(OPTIONS.withCredentials(alice()));
      assertThat(read(client.openRange(repo(server), DIGEST, BLOB.length, 0, 100))).hasSize(100);
      assertThat(read(client.openRange(repo(server), DIGEST, BLOB.length, 0, 100))).hasSize(100);

      assertThat(tokens.get()).isEqualTo(1);
      var tokenRequest = server.seenOn("/token").getFirst();
      assertThat(tokenRequest.pathAndQuery())
          .contains("service=canned")
          .contains("scope=repository%3Ateam%2Fapp%3Apull");
      assertThat(tokenRequest.header("Authorization")).startsWith("Basic ");
    }
  }

  private static String bearer(com.sun.net.httpserver.HttpExchange ex) {
    String realm = "http://127.0.0.1:" + ex.getLocalAddress().getPort() + "/token";
    return "Bearer realm=\"" + realm + "\",service=\"canned\",scope=\"repository:team/app:pull\"";
  }

  @Test
  void bearer_secondRepository_getsTokenForItsOwnScope() throws Exception {
    try (var server =
        new CannedServer(
            ex -> {
              String path = ex.getRequestURI().getPath();
              if (path.equals("/token")) {
                // The token names the scope it was issued for.
                String scope = ex.getRequestURI().getQuery().replaceAll(".*scope=", "");
                respond(ex, 200, "{\"token\":\"" + TOKEN_PREFIX + scope + "\"}");
                return;
              }
              String repository = path.split("/")[2];
              String wanted = TOKEN_PREFIX + "repository:" + repository + "/app:pull";
              if (!("Bearer " + wanted).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                String realm = "http://" + ex.getRequestHeaders().getFirst("Host") + "/token";
                respond(
                    ex,
                    401,
                    Map.of(
                        "WWW-Authenticate",
                        "Bearer realm=\""
                            + realm
                            + "\",service=\"s\","
                            + "scope=\"repository:"
                            + repository
                            + "/app:pull\""),
                    new byte[0]);
              } else {
                respond(ex, 200, Map.of(), BLOB);
              }
            })) {
      var client = RegistryClient.create(OPTIONS);
      var first = ImageReference.parse(server.hostPort() + "/one/app");
      var second = ImageReference.parse(server.hostPort() + "/two/app");
      assertThat(client.blobExists(first, DIGEST)).isTrue();
      assertThat(client.blobExists(second, DIGEST)).isTrue();
      assertThat(server.seenOn("/token"))
          .extracting(CannedServer.Seen::pathAndQuery)
          .containsExactly(
              "/token?service=s&scope=repository%3Aone%2Fapp%3Apull",
              "/token?service=s&scope=repository%3Atwo%2Fapp%3Apull");
    }
  }

  @Test
  void bearer_tokenExpiresMidRun_refreshedOn401() throws Exception {
    AtomicInteger issued = new AtomicInteger();
    AtomicInteger blobRequests = new AtomicInteger();
    try (var server =
        new CannedServer(
            ex -> {
              if (ex.getRequestURI().getPath().equals("/token")) {
                respond(ex, 200, "{\"token\":\"" + TOKEN_PREFIX + issued.incrementAndGet() + "\"}");
                return;
              }
              String auth = ex.getRequestHeaders().getFirst("Authorization");
              // The first token is revoked after two uses: the registry's idea of expiry.
              boolean valid =
                  ("Bearer " + TOKEN_PREFIX + issued.get()).equals(auth)
                      && !(issued.get() == 1 && blobRequests.get() >= 2);
              if (!valid) {
                respond(ex, 401, Map.of("WWW-Authenticate", bearer(ex)), new byte[0]);
              } else {
                blobRequests.incrementAndGet();
                respond(ex, 200, Map.of(), BLOB);
              }
            })) {
      var client = RegistryClient.create(OPTIONS);
      var out = new java.io.ByteArrayOutputStream();
      for (int i = 0; i < 4; i++) {
        out.reset();
        client.fetchBlob(
            repo(server), dev.lazypull.oci.Descriptor.of("x", DIGEST, BLOB.length), out);
        assertThat(out.toByteArray()).isEqualTo(BLOB);
      }
      assertThat(issued.get()).isEqualTo(2);
    }
  }

  @Test
  void openRange_registryIgnoresRange_fallsBackOnceAndLogsOnce() throws Exception {
    try (var server = new CannedServer(ex -> respond(ex, 200, Map.of(), BLOB))) {
      var client = RegistryClient.create(OPTIONS);
      assertThat(read(client.openRange(repo(server), DIGEST, BLOB.length, 5000, 300)))
          .isEqualTo(Arrays.copyOfRange(BLOB, 5000, 5300));
      assertThat(read(client.openRange(repo(server), DIGEST, BLOB.length, 9990, 300)))
          .isEqualTo(Arrays.copyOfRange(BLOB, 9990, 10_000));

      assertThat(logs.list.stream().filter(e -> e.getLevel() == Level.WARN))
          .singleElement()
          .satisfies(e -> assertThat(e.getFormattedMessage()).contains("answered 200 to a range"));
      List<CannedServer.Seen> requests = server.seenOn(blobPath());
      assertThat(requests.get(0).header("Range")).isEqualTo("bytes=5000-5299");
      assertThat(requests.get(0).header("Accept-Encoding")).isEqualTo("identity");
      assertThat(requests.get(1).header("Range")).isNull();
    }
  }

  @Test
  void openRange_rangeIgnoredAndFallbackOff_rangeUnsupported() throws Exception {
    try (var server = new CannedServer(ex -> respond(ex, 200, Map.of(), BLOB))) {
      var client = RegistryClient.create(OPTIONS.withFullDownloadForRanges(false));
      assertThatThrownBy(() -> client.openRange(repo(server), DIGEST, BLOB.length, 0, 10))
          .isInstanceOf(RangeUnsupportedException.class);
    }
  }

  @Test
  void fetchBlob_connectionDropsMidBody_resumesWithRangeAndVerifies() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (var server =
        new CannedServer(
            ex -> {
              String range = ex.getRequestHeaders().getFirst("Range");
              if (calls.incrementAndGet() == 1) {
                // Promise the whole blob, send 4000 bytes, then drop the connection.
                ex.sendResponseHeaders(200, BLOB.length);
                ex.getResponseBody().write(BLOB, 0, 4000);
                ex.getResponseBody().flush();
                throw new IOException("dropped on purpose");
              }
              int from = Integer.parseInt(range.replaceAll("bytes=(\\d+)-.*", "$1"));
              respond(
                  ex,
                  206,
                  Map.of("Content-Range", "bytes " + from + "-" + (BLOB.length - 1) + "/*"),
                  Arrays.copyOfRange(BLOB, from, BLOB.length));
            })) {
      var client = RegistryClient.create(OPTIONS);
      var out = new java.io.ByteArrayOutputStream();
      client.fetchBlob(repo(server), dev.lazypull.oci.Descriptor.of("x", DIGEST, BLOB.length), out);
      assertThat(out.toByteArray()).isEqualTo(BLOB);
      assertThat(server.seen.getLast().header("Range")).isEqualTo("bytes=4000-9999");
    }
  }

  @Test
  void openRange_416_rangeNotSatisfiable() throws Exception {
    try (var server = new CannedServer(ex -> respond(ex, 416, ""))) {
      var client = RegistryClient.create(OPTIONS);
      assertThatThrownBy(() -> client.openRange(repo(server), DIGEST, BLOB.length, 10, 10))
          .isInstanceOf(RangeNotSatisfiableException.class)
          .hasMessageContaining(DIGEST.toString());
    }
  }

  @Test
  void openRange_206WithWrongContentRange_protocolError() throws Exception {
    try (var server =
        new CannedServer(
            ex ->
                respond(
                    ex,
                    206,
                    Map.of("Content-Range", "bytes 0-9/10000"),
                    Arrays.copyOf(BLOB, 10)))) {
      var client = RegistryClient.create(OPTIONS);
      assertThatThrownBy(() -> client.openRange(repo(server), DIGEST, BLOB.length, 10, 10))
          .isInstanceOf(RegistryProtocolException.class)
          .hasMessageContaining("Content-Range");
    }
  }

  /** A 206 answer in multipart/byteranges form with one part: {@code partRange} its range. */
  private static CannedServer multipartServer(String partRange, int from, int to)
      throws IOException {
    return new CannedServer(
        ex -> {
          var body = new java.io.ByteArrayOutputStream();
          body.writeBytes(
              ("\r\n--XYZ\r\nContent-Type: application/octet-stream\r\nContent-Range: "
                      + partRange
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
          body.write(BLOB, from, to - from);
          body.writeBytes("\r\n--XYZ--\r\n".getBytes(StandardCharsets.US_ASCII));
          respond(
              ex,
              206,
              Map.of("Content-Type", "multipart/byteranges; boundary=XYZ"),
              body.toByteArray());
        });
  }

  @Test
  void openRange_multipartByterangesWithOnePart_rightBytes() throws Exception {
    // A single range answered as multipart/byteranges (RFC 9110 allows it) failed the read.
    try (var server = multipartServer("bytes 5000-5299/10000", 5000, 5300)) {
      var client = RegistryClient.create(OPTIONS);
      assertThat(read(client.openRange(repo(server), DIGEST, BLOB.length, 5000, 300)))
          .isEqualTo(Arrays.copyOfRange(BLOB, 5000, 5300));
    }
  }

  @Test
  void openRange_multipartPartOfAnotherRange_protocolError() throws Exception {
    try (var server = multipartServer("bytes 5001-5300/10000", 5001, 5301)) {
      var client = RegistryClient.create(OPTIONS);
      assertThatThrownBy(() -> client.openRange(repo(server), DIGEST, BLOB.length, 5000, 300))
          .isInstanceOf(RegistryProtocolException.class)
          .hasMessageContaining("multipart/byteranges");
    }
  }

  @Test
  void openRange_shortBody_failsInsteadOfServingFewerBytes() throws Exception {
    try (var server =
        new CannedServer(
            ex -> {
              ex.getResponseHeaders().add("Content-Range", "bytes 0-99/10000");
              ex.sendResponseHeaders(206, 0);
              ex.getResponseBody().write(BLOB, 0, 50);
            })) {
      var client = RegistryClient.create(OPTIONS);
      assertThatThrownBy(() -> read(client.openRange(repo(server), DIGEST, BLOB.length, 0, 100)))
          .isInstanceOf(java.io.EOFException.class);
    }
  }

  @Test
  void redirect_toOtherHost_dropsAuthorization() throws Exception {
    try (var storage = new CannedServer(ex -> respond(ex, 200, Map.of(), BLOB));
        var registry =
            new CannedServer(
                ex -> {
                  if (ex.getRequestHeaders().getFirst("Authorization") == null) {
                    respond(
                        ex, 401, Map.of("WWW-Authenticate", "Basic realm=\"canned\""), new byte[0]);
                  } else {
                    String target = "http://localhost:" + storage.port() + "/bucket/blob?sig=1";
                    respond(ex, 307, Map.of("Location", target), new byte[0]);
                  }
                })) {
      var client = RegistryClient.create(OPTIONS.withCredentials(alice()));
      var out = new java.io.ByteArrayOutputStream();
      client.fetchBlob(
          repo(registry), dev.lazypull.oci.Descriptor.of("x", DIGEST, BLOB.length), out);

      assertThat(out.toByteArray()).isEqualTo(BLOB);
      assertThat(registry.seen.getLast().header("Authorization")).startsWith("Basic ");
      assertThat(storage.seen)
          .singleElement()
          .satisfies(
              s -> {
                assertThat(s.header("Authorization")).isNull();
                assertThat(s.pathAndQuery()).isEqualTo("/bucket/blob?sig=1");
              });
    }
  }

  @Test
  void redirect_targetAnswers403_resolvesAgainOnce() throws Exception {
    AtomicInteger signature = new AtomicInteger();
    try (var storage =
            new CannedServer(
                ex -> {
                  boolean expired = ex.getRequestURI().getQuery().equals("sig=1");
                  respond(ex, expired ? 403 : 200, Map.of(), expired ? new byte[0] : BLOB);
                });
        var registry =
            new CannedServer(
                ex -> {
                  String target =
                      "http://localhost:"
                          + storage.port()
                          + "/b?sig="
                          + signature.incrementAndGet();
                  respond(ex, 302, Map.of("Location", target), new byte[0]);
                })) {
      var client = RegistryClient.create(OPTIONS);
      assertThat(read(client.openRange(repo(registry), DIGEST, BLOB.length, 0, 10)))
          .isEqualTo(Arrays.copyOf(BLOB, 10));
      assertThat(registry.seen).hasSize(2);
      assertThat(storage.seen).hasSize(2);
    }
  }

  @Test
  void redirect_targetAlways403_unauthorizedAfterOneReResolve() throws Exception {
    try (var storage = new CannedServer(ex -> respond(ex, 403, ""));
        var registry =
            new CannedServer(
                ex ->
                    respond(
                        ex,
                        307,
                        Map.of("Location", "http://localhost:" + storage.port() + "/b"),
                        new byte[0]))) {
      var client = RegistryClient.create(OPTIONS);
      assertThatThrownBy(() -> client.openRange(repo(registry), DIGEST, BLOB.length, 0, 10))
          .isInstanceOf(UnauthorizedException.class);
      assertThat(registry.seen).hasSize(2);
    }
  }

  @Test
  void status429WithRetryAfter_retriedThenSucceeds() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (var server =
        new CannedServer(
            ex -> {
              if (calls.incrementAndGet() == 1) {
                respond(ex, 429, Map.of("Retry-After", "0"), new byte[0]);
              } else {
                respond(ex, 200, Map.of(), BLOB);
              }
            })) {
      var client = RegistryClient.create(OPTIONS);
      assertThat(read(client.openRange(repo(server), DIGEST, BLOB.length, 0, 10))).hasSize(10);
      assertThat(calls.get()).isEqualTo(2);
    }
  }

  @Test
  void status503_retriedThenSucceeds() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (var server =
        new CannedServer(
            ex -> {
              if (calls.incrementAndGet() <= 2) {
                respond(ex, 503, "busy");
              } else {
                respond(ex, 200, Map.of(), BLOB);
              }
            })) {
      var client = RegistryClient.create(OPTIONS);
      assertThat(client.blobExists(repo(server), DIGEST)).isTrue();
      assertThat(calls.get()).isEqualTo(3);
    }
  }

  @Test
  void status503Always_failsAfterBoundedAttempts() throws Exception {
    try (var server = new CannedServer(ex -> respond(ex, 503, "busy"))) {
      var client = RegistryClient.create(OPTIONS);
      assertThatThrownBy(() -> client.fetchManifest(repo(server)))
          .isInstanceOf(RegistryUnavailableException.class)
          .hasMessageContaining("fetch manifest " + server.hostPort() + "/team/app:1")
          .hasMessageContaining("try again later");
      assertThat(server.seen).hasSize(3);
    }
  }

  @Test
  void connectionRefused_failsAfterBoundedAttempts() throws Exception {
    int port;
    try (var socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    var client = RegistryClient.create(OPTIONS);
    assertThatThrownBy(() -> client.fetchManifest(ImageReference.parse("127.0.0.1:" + port + "/a")))
        .isInstanceOf(RegistryUnavailableException.class)
        .hasMessageContaining("after 3 attempt(s)");
  }

  @Test
  void credentialHelper_suppliesBasicCredentials() throws Exception {
    try (var server =
        new CannedServer(
            ex -> {
              String expected = new Credentials("helper-user", SECRET).basicHeader();
              if (!expected.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                respond(ex, 401, Map.of("WWW-Authenticate", "Basic realm=\"x\""), new byte[0]);
              } else {
                respond(ex, 200, Map.of(), BLOB);
              }
            })) {
      Path bin = Files.createDirectory(tmp.resolve("bin"));
      Path helper = bin.resolve("docker-credential-canned");
      Files.writeString(
          helper,
          "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 2\n"
              + "[ \"$server\" = \""
              + server.hostPort()
              + "\" ] || exit 1\n"
              + "printf '{\"ServerURL\":\"%s\",\"Username\":\"helper-user\",\"Secret\":\""
              + SECRET
              + "\"}' \"$server\"\n");
      Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwx------"));
      Path config = tmp.resolve("config.json");
      Files.writeString(config, "{\"credHelpers\":{\"" + server.hostPort() + "\":\"canned\"}}");
      var credentials =
          new DockerConfigCredentials(config, new CredentialHelperRunner(List.of(bin)));

      var client = RegistryClient.create(OPTIONS.withCredentials(credentials));
      assertThat(client.blobExists(repo(server), DIGEST)).isTrue();
    }
  }

  @Test
  void dockerConfigAuths_wrongPassword_errorHidesSecret() throws Exception {
    try (var server =
        new CannedServer(
            ex -> respond(ex, 401, Map.of("WWW-Authenticate", "Basic realm=\"x\""), new byte[0]))) {
      Path config = tmp.resolve("config.json");
      String auth =
          Base64.getEncoder().encodeToString(("alice:" + SECRET).getBytes(StandardCharsets.UTF_8));
      Files.writeString(
          config, "{\"auths\":{\"" + server.hostPort() + "\":{\"auth\":\"" + auth + "\"}}}");
      var credentials = new DockerConfigCredentials(config, new CredentialHelperRunner(List.of()));
      assertThat(credentials.lookup(server.hostPort()).orElseThrow().toString())
          .doesNotContain(SECRET);

      var client = RegistryClient.create(OPTIONS.withCredentials(credentials));
      assertThatThrownBy(() -> client.fetchManifest(repo(server)))
          .isInstanceOf(UnauthorizedException.class)
          .hasMessageContaining("refused the ones sent")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain(SECRET).doesNotContain(auth));
      assertThat(server.seen).hasSize(2);
    }
  }

  @Test
  void pushManifest_readsOciSubjectHeader() throws Exception {
    Digest subject = Digest.sha256("subject".getBytes(StandardCharsets.UTF_8));
    try (var server =
        new CannedServer(
            ex -> respond(ex, 201, Map.of("OCI-Subject", subject.toString()), new byte[0]))) {
      var client = RegistryClient.create(OPTIONS);
      byte[] manifest = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
      PushedManifest pushed =
          client.pushManifest(repo(server), dev.lazypull.oci.MediaTypes.OCI_MANIFEST, manifest);
      assertThat(pushed.subject()).isEqualTo(subject);
      assertThat(pushed.digest()).isEqualTo(Digest.sha256(manifest));
      assertThat(server.seen.getFirst().header("Content-Type"))
          .isEqualTo(dev.lazypull.oci.MediaTypes.OCI_MANIFEST);
    }
  }

  @Test
  void fetchManifest_byDigest_wrongBytes_digestMismatch() throws Exception {
    byte[] manifest =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}"
            .getBytes(StandardCharsets.UTF_8);
    try (var server = new CannedServer(ex -> respond(ex, 200, Map.of(), manifest))) {
      var client = RegistryClient.create(OPTIONS);
      var byDigest = repo(server).withDigest(DIGEST);
      assertThatThrownBy(() -> client.fetchManifest(byDigest))
          .isInstanceOf(DigestMismatchException.class)
          .hasMessageContaining(DIGEST.toString())
          .hasMessageContaining(Digest.sha256(manifest).toString());
    }
  }
}
