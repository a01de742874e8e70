package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.fs.layer.BackgroundFetchPolicy;
import dev.lazypull.registry.RegistryEndpoint;
import dev.lazypull.registry.RegistryHosts;
import dev.lazypull.registry.RegistryOptions;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotterConfigTest {
  @TempDir Path dir;

  @Test
  void load_missingFile_givesDefaults() throws Exception {
    assertThat(SnapshotterConfig.load(dir.resolve("none.toml")))
        .isEqualTo(SnapshotterConfig.defaults());
  }

  @Test
  void load_everyKey_isRead() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("config.toml"),
            """
            root = "/srv/lazypull"
            address = "/run/x.sock"
            remote = false
            [cache]
            size_mib = 512
            [fetch]
            read_timeout_seconds = 7
            [registry]
            config_path = "%s"
            insecure = ["a.example:5000"]
            mirrors = { "docker.io" = ["http://127.0.0.1:5001", "https://m2.example"] }
            """
                .formatted(dir.resolve("certs.d")));
    hostsToml("plain.example:5000", "server = \"http://plain.example:5000\"\n");
    hostsToml(
        "mirror.example",
        "server = \"https://mirror.example\"\n[host.\"http://10.0.0.1:5000\"]\n"
            + "  capabilities = [\"pull\"]\n");
    hostsToml("secure.example", "server = \"https://secure.example\"\n");

    SnapshotterConfig config = SnapshotterConfig.load(file);

    assertThat(config.root()).isEqualTo(Path.of("/srv/lazypull"));
    assertThat(config.address()).isEqualTo(Path.of("/run/x.sock"));
    assertThat(config.remote()).isFalse();
    assertThat(config.cacheMib()).isEqualTo(512);
    assertThat(config.readTimeoutSeconds()).isEqualTo(7);
    assertThat(config.mirrors())
        .containsExactly(
            Map.entry("docker.io", List.of("http://127.0.0.1:5001", "https://m2.example")));

    RegistryOptions options =
        config.registryOptions(RegistryOptions.defaults().withInsecureHosts(Set.of("cli:1")), file);
    assertThat(options.insecureHosts()).containsExactlyInAnyOrder("a.example:5000", "cli:1");
    RegistryHosts hosts = options.hosts();
    assertThat(hosts.lookup("plain.example:5000").server().url())
        .isEqualTo(URI.create("http://plain.example:5000"));
    assertThat(hosts.lookup("mirror.example").mirrors())
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.url()).isEqualTo(URI.create("http://10.0.0.1:5000"));
              assertThat(m.capabilities()).containsExactly(RegistryEndpoint.Capability.PULL);
            });
    assertThat(hosts.lookup("docker.io").mirrors())
        .extracting(RegistryEndpoint::url)
        .containsExactly(URI.create("http://127.0.0.1:5001"), URI.create("https://m2.example"));
    assertThat(hosts.lookup("quay.io")).isNull();
  }

  @Test
  void registryOptions_brokenHostsToml_failsNamingIt() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("config.toml"),
            "[registry]\nconfig_path = \"%s\"\n".formatted(dir.resolve("certs.d")));
    hostsToml("bad.example", "[host.\"https://m\"]\ncapabilities = [\"fetch\"]\n");
    SnapshotterConfig config = SnapshotterConfig.load(file);
    assertThatThrownBy(() -> config.registryOptions(RegistryOptions.defaults(), file))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(dir.resolve("certs.d/bad.example/hosts.toml").toString())
        .hasMessageContaining("unknown capability fetch");
  }

  @Test
  void load_mirrorsNotATable_failsNamingTheFile() throws Exception {
    Path file = Files.writeString(dir.resolve("m.toml"), "[registry]\nmirrors = [\"x\"]\n");
    assertThatThrownBy(() -> SnapshotterConfig.load(file))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith(file + ": registry.mirrors must be a table");
  }

  @Test
  void load_estargzAllowNoVerification_isReadAndOffByDefault() throws Exception {
    Path file =
        Files.writeString(dir.resolve("esgz.toml"), "[estargz]\nallow_no_verification = true\n");

    assertThat(SnapshotterConfig.load(file).estargzAllowNoVerification()).isTrue();
    assertThat(SnapshotterConfig.defaults().estargzAllowNoVerification()).isFalse();
  }

  @Test
  void load_malformed_failsNamingTheFile() throws Exception {
    Path file = Files.writeString(dir.resolve("bad.toml"), "root = \n[cache\n");
    assertThatThrownBy(() -> SnapshotterConfig.load(file))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(file.toString());
    Path negative = Files.writeString(dir.resolve("neg.toml"), "[cache]\nsize_mib = 0\n");
    assertThatThrownBy(() -> SnapshotterConfig.load(negative)).hasMessageContaining("positive");
  }

  @Test
  void load_backgroundFetchAndConcurrency_areRead() throws Exception {
    assertThat(SnapshotterConfig.defaults().backgroundFetch())
        .isEqualTo(BackgroundFetchPolicy.defaults());
    Path file =
        Files.writeString(
            dir.resolve("bg.toml"),
            """
            [fetch]
            concurrency = 6
            [background_fetch]
            start_delay_seconds = 5
            rate_mib_per_second = 20
            """);
    SnapshotterConfig config = SnapshotterConfig.load(file);
    assertThat(config.fetchConcurrency()).isEqualTo(6);
    assertThat(config.backgroundFetch())
        .isEqualTo(
            new BackgroundFetchPolicy(
                Duration.ofSeconds(5), BackgroundFetchPolicy.DEFAULT_QUIET, 20L << 20));

    Path off = Files.writeString(dir.resolve("off.toml"), "[background_fetch]\nenabled = false\n");
    assertThat(SnapshotterConfig.load(off).backgroundFetch()).isNull();
    Path negative =
        Files.writeString(
            dir.resolve("negbg.toml"), "[background_fetch]\nrate_mib_per_second = -1\n");
    assertThatThrownBy(() -> SnapshotterConfig.load(negative))
        .hasMessageContaining(negative.toString())
        .hasMessageContaining("must not be negative");
  }

  @Test
  void load_wrongTypesUnknownKeysAndOverflow_failNamingTheKey() throws Exception {
    // Each of these was taken without a word before: a string where a boolean or number belongs
    // fell back to the default, a misspelt key was ignored, a huge rate overflowed to negative.
    // (Not 2^63-1: jackson-dataformat-toml 2.20 reads 9223372036854775807 as 6854775807.)
    String[][] cases = {
      {"[background_fetch]\nenabled = \"no\"\n", "background_fetch.enabled must be true or false"},
      {
        "[background_fetch]\nstart_delay_seconds = \"abc\"\n", "start_delay_seconds must be a whole"
      },
      {"[estargz]\nallow_no_verification = \"yes\"\n", "allow_no_verification must be true"},
      {"[estargz]\nallow_no_verification = 1\n", "allow_no_verification must be true"},
      {"[fetch]\nconcurrency = 4294967297\n", "fetch.concurrency must be at most 2147483647"},
      {"[fetch]\nconcurrency = 1.5\n", "fetch.concurrency must be a whole number"},
      {"[background_fetch]\nrate_mib_per_second = 8796093022208\n", "must be at most"},
      {"[background-fetch]\nenabled = false\n", "unknown key background-fetch; known:"},
      {"[fetch]\nconcurency = 4\n", "unknown key fetch.concurency; known in [fetch]"},
      {"fetch = 3\n", "fetch must be a table"},
      {"root = 5\n", "root must be a string"},
    };
    for (String[] c : cases) {
      Path file = Files.writeString(dir.resolve("bad.toml"), c[0]);
      assertThatThrownBy(() -> SnapshotterConfig.load(file), "%s", c[0])
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith(file + ": ")
          .hasMessageContaining(c[1]);
    }
  }

  private void hostsToml(String host, String text) throws IOException {
    Path hostDir = Files.createDirectories(dir.resolve("certs.d").resolve(host));
    Files.writeString(hostDir.resolve("hosts.toml"), text);
  }
}
