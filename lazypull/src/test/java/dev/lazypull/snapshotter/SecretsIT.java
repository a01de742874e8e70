package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.lazypull.cli.Main;
import dev.lazypull.fs.ImageFilesystem;
import dev.lazypull.fs.LazyImage;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.registry.CredentialSource;
import dev.lazypull.registry.Credentials;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.Containerd;
import dev.lazypull.testing.Fault;
import dev.lazypull.testing.FaultProxy;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestImage;
import dev.lazypull.testing.TestLayers;
import dev.lazypull.testing.TokenServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Credentials and bearer tokens never show: a registry with token auth (a {@link TokenServer}) and
 * a known random password, then CLI commands (text and {@code --json}, succeeding and failing),
 * lazy reads that fail, and the snapshotter's metrics, with every line of output, every log event
 * at DEBUG (and its exceptions' messages) and the metrics page searched for the password, its Basic
 * form and every token handed out.
 */
class SecretsIT {
  private static final String USER = "keeper";
  private static final String PASSWORD = "Pw-" + UUID.randomUUID();
  private static final String CREDS = USER + ":" + PASSWORD;
  private static final String WRONG_PASSWORD = "Wrong-" + UUID.randomUUID();

  private static TokenServer tokens;
  private static LocalRegistry registry;

  @TempDir Path scratch;

  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger rootLogger = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
  private Level levelBefore;

  /** Everything a user or an operator could see, gathered by the test. */
  private final List<String> seen = new ArrayList<>();

  @BeforeAll
  static void startAndPush() throws Exception {
    tokens = TokenServer.withCredentials(USER, PASSWORD);
    registry = LocalRegistry.withTokenAuth(tokens).start();
    var lower =
        TestLayers.tar().file("etc/conf", "x=1\n").file("big", TestLayers.randomBytes(7, 200_000));
    var upper = TestLayers.tar().file("top", TestLayers.textBytes(8, 50_000));
    TestImage.push(
        client(PASSWORD),
        registry.reference("secret:src"),
        List.of(TestLayers.gzip(lower.build().bytes()), TestLayers.gzip(upper.build().bytes())));
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
    if (tokens != null) {
      tokens.close();
    }
  }

  @BeforeEach
  void captureLogs() {
    levelBefore = rootLogger.getLevel();
    logs.start();
    rootLogger.addAppender(logs);
    rootLogger.setLevel(Level.DEBUG);
  }

  @AfterEach
  void releaseLogs() {
    rootLogger.detachAppender(logs);
    rootLogger.setLevel(levelBefore);
  }

  private static RegistryClient client(String password) {
    return RegistryClient.create(
        RegistryOptions.defaults()
            .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2))
            .withCredentials(CredentialSource.fixed(new Credentials(USER, password))));
  }

  /** Runs the CLI in-process, keeping its stdout and stderr; returns the exit code. */
  private int lazypull(String... args) {
    var out = new StringWriter();
    var err = new StringWriter();
    var commandLine = Main.newCommandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    int exit = commandLine.execute(args);
    seen.add(
        String.join(" ", args).replace(PASSWORD, "<password>").replace(WRONG_PASSWORD, "<wrong>"));
    seen.add(out.toString());
    seen.add(err.toString());
    return exit;
  }

  @Test
  void everythingShown_holdsNoPasswordAndNoToken() throws Exception {
    ImageReference source = registry.reference("secret:src");
    ImageReference converted = registry.reference("secret:soci");

    assertThat(
            lazypull(
                "convert",
                "--creds",
                CREDS,
                "--min-layer-size",
                "0",
                "--span-size",
                "65536",
                source.toString(),
                converted.toString()))
        .isZero();
    assertThat(lazypull("index", "list", "--json", "--creds", CREDS, converted.toString()))
        .isZero();
    assertThat(lazypull("index", "info", "--json", "--creds", CREDS, converted.toString()))
        .isZero();
    assertThat(lazypull("index", "info", "--creds", CREDS, converted.toString())).isZero();
    assertThat(
            lazypull("index", "list", "--creds", USER + ":" + WRONG_PASSWORD, converted.toString()))
        .as("wrong password")
        .isNotZero();
    assertThat(
            lazypull(
                "index",
                "info",
                "--json",
                "--creds",
                CREDS,
                registry.reference("none:x").toString()))
        .as("missing image")
        .isNotZero();
    assertThat(tokens.issued()).as("the commands used tokens").isNotEmpty();
    assertThat(seen.get(seen.size() - 1)).as("the missing image's error was captured").isNotBlank();
    assertThat(String.join("\n", seen)).as("--json output was captured").contains("\"digest\"");

    readsFailingBehindAProxy(converted);
    scrapeSnapshotterMetrics(converted);

    List<String> secrets = new ArrayList<>();
    secrets.add(PASSWORD);
    secrets.add(WRONG_PASSWORD);
    secrets.add(basic(PASSWORD));
    secrets.add(basic(WRONG_PASSWORD));
    for (String token : tokens.issued()) {
      secrets.add(token);
      secrets.add(token.substring(token.lastIndexOf('.') + 1)); // the signature alone
    }
    for (ILoggingEvent event : logs.list) {
      seen.add(event.getFormattedMessage());
      for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
        seen.add(t.getClassName() + ": " + t.getMessage());
      }
    }
    assertThat(logs.list).as("DEBUG logging was captured").isNotEmpty();
    for (String text : seen) {
      for (String secret : secrets) {
        assertThat(text).as("shown text").doesNotContain(secret);
      }
    }
  }

  private static String basic(String password) {
    return Base64.getEncoder()
        .encodeToString((USER + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /** A lazy mount through a proxy that fails every blob read: errors and logs are captured. */
  private void readsFailingBehindAProxy(ImageReference converted) throws Exception {
    try (var proxy = FaultProxy.to(registry.port());
        LazyImage image =
            LazyImage.open(
                client(PASSWORD),
                proxy.reference(converted.repository() + ":soci"),
                new LazyImage.Options(
                    scratch.resolve("cache"), 1L << 30, Duration.ofSeconds(3), null, false))) {
      Path root = Files.createDirectories(scratch.resolve("mnt"));
      try (FuseMount mount =
          FuseMount.mount(
              root,
              new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"))) {
        proxy.always(new Fault.Status(500, null), FaultProxy.blobGets());
        try {
          Files.readAllBytes(root.resolve("big"));
          throw new AssertionError("a read through a registry answering 500 succeeded");
        } catch (IOException e) {
          seen.add(e.toString());
        }
        proxy.clear();
        proxy.always(new Fault.ResetMidBody(), FaultProxy.blobGets());
        try {
          Files.readAllBytes(root.resolve("top"));
        } catch (IOException e) {
          seen.add(e.toString());
        }
        proxy.clear();
        assertThat(Files.readString(root.resolve("etc/conf"))).isEqualTo("x=1\n");
      }
    }
  }

  /** The snapshotter mounts a layer lazily with the credentials; its metrics page is captured. */
  private void scrapeSnapshotterMetrics(ImageReference converted) throws Exception {
    Path root = scratch.resolve("snapshots");
    var remote =
        new RemoteLayerMounter(
            client(PASSWORD), scratch.resolve("snapshot-cache"), 64 << 20, Duration.ofSeconds(3));
    try (Snapshotter snapshotter = Snapshotter.open(root, remote);
        var metrics = new SnapshotterMetrics(snapshotter, remote)) {
      Descriptor layer =
          client(PASSWORD).resolveManifest(converted).imageManifest().layers().getFirst();
      Map<String, String> labels = new HashMap<>();
      labels.put(SnapshotLabels.TARGET_REF, "c1");
      labels.put(SnapshotLabels.IMAGE_REF, converted.toString());
      labels.put(SnapshotLabels.LAYER_DIGEST, layer.digest().toString());
      try {
        snapshotter.prepare("ns/1/extract-a", "", labels);
      } catch (SnapshotException e) {
        // ALREADY_EXISTS: the layer was mounted remotely, as containerd expects.
        seen.add(e.toString());
      }
      assertThat(remote.mountedCount()).as("the layer is mounted lazily").isEqualTo(1);
      int port = metrics.serve(new InetSocketAddress("127.0.0.1", 0));
      String page =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(page).contains("lazypull_remote_layers_mounted");
      seen.add(page);
    } finally {
      for (String mountPoint : Containerd.mountsUnder(scratch)) {
        new ProcessBuilder("umount", "-l", mountPoint).start().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
