package dev.lazypull.fs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.cli.Main;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.registry.CredentialSource;
import dev.lazypull.registry.Credentials;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestImage;
import dev.lazypull.testing.TokenServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lazy reads from the real docker-registry with token auth, whose bearer tokens (from a {@link
 * TokenServer}) die after 2 s: reads after a token died must get a new one and the right bytes.
 */
class TokenExpiryIT {
  private static final String USER = "puller";
  private static final String PASSWORD = "expiry-test-password";
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration READ_BOUND = READ_TIMEOUT.multipliedBy(2).plusSeconds(2);
  private static final Duration TOKEN_LIFETIME = Duration.ofSeconds(2);

  private static TokenServer tokens;
  private static LocalRegistry registry;

  @TempDir Path scratch;

  @BeforeAll
  static void startAndPush() throws Exception {
    tokens = TokenServer.withCredentials(USER, PASSWORD);
    registry = LocalRegistry.withTokenAuth(tokens).start();
    TestImage.push(client(), registry.reference("expiry:src"), FaultWorkload.layers());
    int exit =
        Main.newCommandLine()
            .execute(
                "convert",
                "--creds",
                USER + ":" + PASSWORD,
                "--span-size",
                "65536",
                "--min-layer-size",
                "0",
                registry.reference("expiry:src").toString(),
                registry.reference("expiry:soci").toString());
    assertThat(exit).isZero();
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

  private static RegistryClient client() {
    return RegistryClient.create(
        RegistryOptions.defaults()
            .withCredentials(CredentialSource.fixed(new Credentials(USER, PASSWORD))));
  }

  /**
   * The token answer says {@code expires_in: 300}, but the registry refuses the token after 2 s:
   * the client only learns from a 401 and must fetch a new token then.
   */
  @Test
  void read_tokenDiesBeforeItsAdvertisedExpiry_newTokenAndRightBytes() throws Exception {
    tokens.tokenLifetime(TOKEN_LIFETIME);
    tokens.advertiseExpiresIn(300);
    readHalfWaitReadRest();
  }

  @Test
  void read_tokenExpiresAsAdvertised_renewedAndRightBytes() throws Exception {
    tokens.tokenLifetime(TOKEN_LIFETIME);
    tokens.advertiseExpiresIn(-1);
    readHalfWaitReadRest();
  }

  private void readHalfWaitReadRest() throws Exception {
    List<String> all = List.copyOf(FaultWorkload.FILES.keySet());
    List<String> first = all.subList(0, all.size() / 2);
    List<String> rest = all.subList(all.size() / 2, all.size());
    try (LazyImage image =
        LazyImage.open(
            client(),
            registry.reference("expiry:soci"),
            new LazyImage.Options(scratch.resolve("cache"), 1L << 30, READ_TIMEOUT, null, false))) {
      Path root = Files.createDirectories(scratch.resolve("mnt"));
      try (FuseMount mount =
          FuseMount.mount(
              root,
              new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"))) {
        FaultWorkload.readEach(root, first).assertAllRight(READ_BOUND);
        int issuedBefore = tokens.issued().size();

        Thread.sleep(TOKEN_LIFETIME.plusMillis(1500));
        FaultWorkload.readEach(root, rest).assertAllRight(READ_BOUND);

        assertThat(tokens.issued().size())
            .as("tokens handed out after the first ones died")
            .isGreaterThan(issuedBefore);
      }
    }
  }
}
