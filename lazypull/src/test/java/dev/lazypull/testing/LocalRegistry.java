package dev.lazypull.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lazypull.registry.ImageReference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real Debian {@code docker-registry} on a free 127.0.0.1 port, with its own config and storage
 * in a temporary directory (deletes enabled, optional htpasswd Basic auth or token auth). Use as a
 * JUnit 5 extension on a static field ({@code @RegisterExtension static final LocalRegistry
 * REGISTRY = LocalRegistry.create();}) or as an AutoCloseable ({@code try (var r =
 * LocalRegistry.create().start())}). Stopped by its PID; its storage is deleted on close.
 */
public final class LocalRegistry implements AutoCloseable, BeforeAllCallback, AfterAllCallback {

  public static final Path BINARY = Path.of("/usr/bin/docker-registry");
  private static final Logger log = LoggerFactory.getLogger(LocalRegistry.class);
  private static final long START_TIMEOUT_MILLIS = 15_000;

  private final String user;
  private final String password;
  private final TokenServer tokenServer;
  private final TestCertificates tls;
  private Path dir;
  private Process process;
  private int port;

  private LocalRegistry(
      String user, String password, TokenServer tokenServer, TestCertificates tls) {
    this.user = user;
    this.password = password;
    this.tokenServer = tokenServer;
    this.tls = tls;
  }

  /** An anonymous registry (not started yet). */
  public static LocalRegistry create() {
    return new LocalRegistry(null, null, null, null);
  }

  /** A registry that wants Basic credentials (htpasswd, bcrypt) for everything. */
  public static LocalRegistry withBasicAuth(String user, String password) {
    return new LocalRegistry(user, password, null, null);
  }

  /**
   * An anonymous registry serving https only, with the server certificate of {@code certificates}
   * ({@code http.tls}): clients must trust their CA.
   */
  public static LocalRegistry withTls(TestCertificates certificates) {
    return new LocalRegistry(null, null, null, certificates);
  }

  /**
   * A registry that wants Bearer tokens from {@code tokenServer} for everything: it checks each
   * token's signature against the server's certificate ({@code auth.token.rootcertbundle}).
   */
  public static LocalRegistry withTokenAuth(TokenServer tokenServer) {
    return new LocalRegistry(null, null, tokenServer, null);
  }

  /** Starts the registry and waits until it answers; fails loudly when it cannot. */
  public synchronized LocalRegistry start() throws IOException {
    if (process != null) {
      return this;
    }
    if (!Files.isExecutable(BINARY)) {
      throw new IllegalStateException(
          BINARY
              + " is missing: install the Debian package docker-registry"
              + " (scripts/install-deps.sh)");
    }
    dir = Files.createTempDirectory("lazypull-registry-");
    for (int attempt = 1; ; attempt++) {
      port = freePort();
      writeConfig();
      process =
          new ProcessBuilder(BINARY.toString(), "serve", dir.resolve("config.yml").toString())
              .redirectErrorStream(true)
              .redirectOutput(log().toFile())
              .start();
      if (awaitReady()) {
        log.info("docker-registry pid {} serving on {}", process.pid(), hostPort());
        return this;
      }
      stopProcess();
      if (attempt == 3) {
        String output = Files.readString(log());
        close();
        throw new IllegalStateException("docker-registry did not start: " + output);
      }
    }
  }

  /** {@code 127.0.0.1:<port>}. */
  public String hostPort() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** A reference in this registry, e.g. {@code reference("app:1")}. */
  public ImageReference reference(String repositoryAndTag) {
    return ImageReference.parse(hostPort() + "/" + repositoryAndTag);
  }

  /** The registry's storage directory. */
  public Path storage() {
    return dir.resolve("data");
  }

  /**
   * The requests the registry has logged as completed. The registry logs a request just after
   * answering it, so a request finished a moment ago may be missing: use {@link
   * #awaitServedRequests(int)} when counting.
   */
  public List<ServedRequest> servedRequests() {
    List<ServedRequest> served = new ArrayList<>();
    var mapper = new ObjectMapper();
    try {
      for (String line : Files.readAllLines(log(), StandardCharsets.UTF_8)) {
        if (!line.startsWith("{")) {
          continue;
        }
        JsonNode entry = mapper.readTree(line);
        if (entry.path("msg").asText().startsWith("response completed")) {
          served.add(
              new ServedRequest(
                  entry.path("http.request.method").asText(),
                  entry.path("http.request.uri").asText(),
                  entry.path("http.response.status").asInt(),
                  entry.path("http.response.written").asLong()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return served;
  }

  /**
   * How many requests the registry has logged once its log stops growing (it logs a request just
   * after answering it): take this before the requests a test wants to count, so that late lines of
   * earlier requests are not counted with them. Waits at most 5 s.
   */
  public int settledRequestCount() throws InterruptedException {
    int count = servedRequests().size();
    for (int i = 0; i < 25; i++) {
      Thread.sleep(200);
      int now = servedRequests().size();
      if (now == count) {
        return count;
      }
      count = now;
    }
    return count;
  }

  /** Waits (up to 5 s) until at least {@code count} requests are logged, then returns them. */
  public List<ServedRequest> awaitServedRequests(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    List<ServedRequest> served = servedRequests();
    while (served.size() < count && System.nanoTime() < deadline) {
      Thread.sleep(20);
      served = servedRequests();
    }
    return served;
  }

  /** One request the registry answered: method, URI, status and body bytes written. */
  public record ServedRequest(String method, String uri, int status, long bodyBytes) {}

  @Override
  public synchronized void close() {
    stopProcess();
    if (dir != null) {
      deleteRecursively(dir);
      dir = null;
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  private Path log() {
    return dir.resolve("registry.log");
  }

  private void writeConfig() throws IOException {
    StringBuilder config = new StringBuilder();
    config.append("version: 0.1\n");
    config.append("log:\n  level: info\n  formatter: json\n  accesslog:\n    disabled: true\n");
    config.append("storage:\n  filesystem:\n    rootdirectory: ").append(storage()).append('\n');
    config.append("  delete:\n    enabled: true\n");
    config.append("http:\n  addr: 127.0.0.1:").append(port).append('\n');
    if (tls != null) {
      config
          .append("  tls:\n    certificate: ")
          .append(tls.serverCertificate())
          .append("\n    key: ")
          .append(tls.serverKey())
          .append('\n');
    }
    if (user != null) {
      Path htpasswd = dir.resolve("htpasswd");
      Files.writeString(htpasswd, bcryptLine());
      config
          .append("auth:\n  htpasswd:\n    realm: lazypull-test\n    path: ")
          .append(htpasswd)
          .append('\n');
    }
    if (tokenServer != null) {
      config
          .append("auth:\n  token:\n    realm: ")
          .append(tokenServer.realm())
          .append("\n    service: ")
          .append(TokenServer.SERVICE)
          .append("\n    issuer: ")
          .append(TokenServer.ISSUER)
          .append("\n    rootcertbundle: ")
          .append(tokenServer.certificatePem())
          .append('\n');
    }
    Files.writeString(dir.resolve("config.yml"), config);
  }

  /** {@code user:$2y$...} from htpasswd (apache2-utils); the registry accepts only bcrypt. */
  private String bcryptLine() throws IOException {
    Path htpasswd = Path.of("/usr/bin/htpasswd");
    if (!Files.isExecutable(htpasswd)) {
      throw new IllegalStateException(
          "/usr/bin/htpasswd is missing: install apache2-utils (scripts/install-deps.sh)");
    }
    Process p = new ProcessBuilder(htpasswd.toString(), "-nbB", user, password).start();
    try {
      String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (p.waitFor() != 0 || line.isEmpty()) {
        throw new IllegalStateException("htpasswd failed with exit code " + p.exitValue());
      }
      return line + "\n";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted running htpasswd", e);
    }
  }

  private boolean awaitReady() throws IOException {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        return false;
      }
      try {
        var connection =
            (HttpURLConnection)
                URI.create("http://" + hostPort() + "/v2/").toURL().openConnection();
        connection.setConnectTimeout(500);
        connection.setReadTimeout(2000);
        int status = connection.getResponseCode();
        connection.disconnect();
        // A TLS registry answers plain HTTP with 400 ("Client sent an HTTP request to an HTTPS
        // server"): it is listening.
        if (status == 200 || status == 401 || (tls != null && status == 400)) {
          return true;
        }
      } catch (IOException notYet) {
        // Not listening yet.
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted waiting for docker-registry", e);
      }
    }
    return false;
  }

  private void stopProcess() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    process = null;
  }

  private static int freePort() throws IOException {
    try (var socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static void deleteRecursively(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("could not delete {}: {}", root, e.toString());
    }
  }
}
