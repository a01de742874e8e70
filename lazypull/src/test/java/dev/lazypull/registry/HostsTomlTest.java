package dev.lazypull.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.registry.RegistryEndpoint.Capability;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostsTomlTest {
  @TempDir Path dir;

  private Path write(String text) throws IOException {
    Path hostDir = Files.createDirectories(dir.resolve("docker.io"));
    return Files.writeString(hostDir.resolve("hosts.toml"), text);
  }

  @Test
  void parse_everyField_inFileOrderWithTheServerLast() throws Exception {
    Path file =
        write(
            """
            server = "https://registry-1.docker.io"
            capabilities = ["pull", "resolve", "push"]
            ca = "/etc/certs/upstream.pem"
            skip_verify = false

            [host."https://public-mirror.example.com"]
              capabilities = ["pull"]
            [host."http://10.0.0.1:5000/cache"]
              capabilities = ["pull", "resolve"]
              ca = ["mirror.crt", "/abs/second.pem"]
              skip_verify = true
              override_path = true
            [host."docker-mirror.internal"]
            """);

    RegistryHostConfig config = HostsToml.parse(file);

    assertThat(config.source()).isEqualTo(file.toString());
    assertThat(config.mirrors()).hasSize(3);
    RegistryEndpoint publicMirror = config.mirrors().get(0);
    assertThat(publicMirror.url()).isEqualTo(URI.create("https://public-mirror.example.com"));
    assertThat(publicMirror.capabilities()).containsExactly(Capability.PULL);
    assertThat(publicMirror.caFiles()).isEmpty();
    assertThat(publicMirror.skipVerify()).isFalse();
    assertThat(publicMirror.overridePath()).isFalse();

    RegistryEndpoint privateMirror = config.mirrors().get(1);
    assertThat(privateMirror.url()).isEqualTo(URI.create("http://10.0.0.1:5000/cache"));
    assertThat(privateMirror.capabilities())
        .containsExactlyInAnyOrder(Capability.PULL, Capability.RESOLVE);
    assertThat(privateMirror.caFiles())
        .as("relative to the hosts.toml's directory")
        .containsExactly(file.getParent().resolve("mirror.crt"), Path.of("/abs/second.pem"));
    assertThat(privateMirror.skipVerify()).isTrue();
    assertThat(privateMirror.overridePath()).isTrue();

    RegistryEndpoint noScheme = config.mirrors().get(2);
    assertThat(noScheme.url())
        .as("https when no scheme")
        .hasToString("https://docker-mirror.internal");
    assertThat(noScheme.capabilities()).isEqualTo(EnumSet.allOf(Capability.class));

    RegistryEndpoint server = config.server();
    assertThat(server.url()).isEqualTo(URI.create("https://registry-1.docker.io"));
    assertThat(server.capabilities()).isEqualTo(EnumSet.allOf(Capability.class));
    assertThat(server.caFiles()).containsExactly(Path.of("/etc/certs/upstream.pem"));
    assertThat(server.skipVerify()).isFalse();
  }

  @Test
  void parse_noServer_theRegistryItselfWithEveryCapabilityAndTheTopLevelTls() throws Exception {
    Path file =
        write(
            """
            capabilities = ["pull"]
            skip_verify = true
            [host."http://127.0.0.1:5001"]
            """);

    RegistryHostConfig config = HostsToml.parse(file);

    assertThat(config.server().url()).isNull();
    assertThat(config.server().capabilities()).isEqualTo(EnumSet.allOf(Capability.class));
    assertThat(config.server().skipVerify()).isTrue();
    assertThat(config.mirrors())
        .singleElement()
        .extracting(RegistryEndpoint::url)
        .isEqualTo(URI.create("http://127.0.0.1:5001"));
  }

  @Test
  void parse_empty_onlyTheRegistryItself() throws Exception {
    RegistryHostConfig config = HostsToml.parse(write(""));
    assertThat(config.endpoints()).containsExactly(RegistryEndpoint.ownServer());
  }

  @Test
  void apiBase_addsV2UnlessThereOrOverridden() {
    assertThat(RegistryEndpoint.apiBase(URI.create("https://m.example"), false))
        .hasToString("https://m.example/v2/");
    assertThat(RegistryEndpoint.apiBase(URI.create("http://m.example:5000/cache/"), false))
        .hasToString("http://m.example:5000/cache/v2/");
    assertThat(RegistryEndpoint.apiBase(URI.create("https://m.example/v2"), false))
        .hasToString("https://m.example/v2/");
    assertThat(RegistryEndpoint.apiBase(URI.create("https://m.example/api/registry"), true))
        .hasToString("https://m.example/api/registry/");
  }

  @Test
  void parse_badToml_failsOnOneLineNamingTheFile() throws Exception {
    Path file = write("server = \"https://x\"\n[host.\"http://a\"\ncapabilities = [\n");
    assertThatThrownBy(() -> HostsToml.parse(file))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("read " + file + ": not valid TOML (")
        .hasMessageContaining("line ")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void parse_wrongValues_failNamingTheFileAndTheKey() throws Exception {
    List<List<String>> cases =
        List.of(
            List.of(
                "[host.\"https://m\"]\ncapabilities = [\"pull\", \"fetch\"]\n",
                "unknown capability fetch"),
            List.of(
                "[host.\"https://m\"]\ncapabilities = \"pull\"\n", "capabilities must be a list"),
            List.of(
                "[host.\"https://m\"]\nskip_verify = \"yes\"\n",
                "skip_verify must be true or false"),
            List.of("override_path = 1\n", "server override_path must be true or false"),
            List.of("ca = 3\n", "server ca must be a path or a list of paths"),
            List.of("server = 5\n", "server must be a string"),
            List.of("[host.\"ftp://m\"]\n", "is not an http(s) URL"),
            List.of("host = \"https://m\"\n", "host must be tables"));
    for (List<String> c : cases) {
      Path file = write(c.get(0));
      assertThatThrownBy(() -> HostsToml.parse(file))
          .as(c.get(0))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("read " + file + ": ")
          .hasMessageContaining(c.get(1))
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
  }
}
