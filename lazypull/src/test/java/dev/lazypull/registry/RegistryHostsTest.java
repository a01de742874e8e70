package dev.lazypull.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryHostsTest {
  @TempDir Path dir;

  private void hostsToml(String namespace, String text) throws IOException {
    Path hostDir = Files.createDirectories(dir.resolve(namespace));
    Files.writeString(hostDir.resolve("hosts.toml"), text);
  }

  @Test
  void lookup_likeContainerd_underscoredPortThenHostPortThenDefault() throws Exception {
    hostsToml("reg.example_5000_", "server = \"https://one.example\"\n");
    hostsToml("reg.example:5000", "server = \"https://two.example\"\n");
    hostsToml("other.example:5000", "server = \"https://three.example\"\n");
    hostsToml("_default", "server = \"https://fallback.example\"\n");

    RegistryHosts hosts = RegistryHosts.load(dir);

    assertThat(hosts.lookup("reg.example:5000").server().url())
        .isEqualTo(URI.create("https://one.example"));
    assertThat(hosts.lookup("other.example:5000").server().url())
        .isEqualTo(URI.create("https://three.example"));
    assertThat(hosts.lookup("quay.io").server().url())
        .isEqualTo(URI.create("https://fallback.example"));
  }

  @Test
  void load_missingDirectory_noConfiguration() throws Exception {
    RegistryHosts hosts = RegistryHosts.load(dir.resolve("absent"));
    assertThat(hosts.isEmpty()).isTrue();
    assertThat(hosts.lookup("docker.io")).isNull();
  }

  @Test
  void load_missingCaFile_failsNamingItAndTheHostsToml() throws Exception {
    hostsToml("reg.example", "[host.\"https://m.example\"]\nca = \"missing.crt\"\n");
    Path hostsFile = dir.resolve("reg.example/hosts.toml");
    assertThatThrownBy(() -> RegistryHosts.load(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(hostsFile.toString())
        .hasMessageContaining(dir.resolve("reg.example/missing.crt").toString())
        .hasMessageContaining("does not exist");
  }

  @Test
  void load_caFileNotPem_failsNamingIt() throws Exception {
    hostsToml("reg.example", "ca = \"junk.crt\"\n");
    Files.writeString(dir.resolve("reg.example/junk.crt"), "not a certificate\n");
    assertThatThrownBy(() -> RegistryHosts.load(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(dir.resolve("reg.example/junk.crt").toString());
  }

  @Test
  void load_badTomlInOneDirectory_failsNamingThatFile() throws Exception {
    hostsToml("good.example", "server = \"https://good.example\"\n");
    hostsToml("bad.example", "server = \n");
    assertThatThrownBy(() -> RegistryHosts.load(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(dir.resolve("bad.example/hosts.toml").toString());
  }

  @Test
  void withMirrors_addsPullResolveMirrorsBeforeTheRegistry() {
    RegistryHosts hosts =
        RegistryHosts.none()
            .withMirrors(
                Map.of("docker.io", List.of("http://127.0.0.1:5001", "mirror.example")),
                "/etc/lazypull/config.toml");
    RegistryHostConfig config = hosts.lookup("docker.io");
    assertThat(config.mirrors())
        .extracting(RegistryEndpoint::url)
        .containsExactly(URI.create("http://127.0.0.1:5001"), URI.create("https://mirror.example"));
    assertThat(config.mirrors().getFirst().can(RegistryEndpoint.Capability.PUSH)).isFalse();
    assertThat(config.server()).isEqualTo(RegistryEndpoint.ownServer());
    assertThatThrownBy(
            () ->
                RegistryHosts.none().withMirrors(Map.of("docker.io", List.of("ftp://x")), "c.toml"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("c.toml: mirror 'ftp://x' of docker.io is not an http(s) URL");
  }
}
