package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    assertThat(config.allInsecureHosts())
        .containsExactly("a.example:5000", "mirror.example", "plain.example:5000");
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

  private void hostsToml(String host, String text) throws IOException {
    Path hostDir = Files.createDirectories(dir.resolve("certs.d").resolve(host));
    Files.writeString(hostDir.resolve("hosts.toml"), text);
  }
}
