package dev.lazypull.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.oci.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EndpointsTest {

  private final Endpoints endpoints =
      new Endpoints(Set.of("registry.lan:5000"), RegistryHosts.none());

  @Test
  void registryOf_dockerHub_httpsToApiHost() {
    var registry = endpoints.registryOf(ImageReference.parse("debian:12"));
    assertThat(registry.name()).isEqualTo("docker.io");
    assertThat(registry.apiBase()).hasToString("https://registry-1.docker.io/v2/");
  }

  @Test
  void registryOf_loopbackAndInsecureHosts_plainHttp() {
    assertThat(endpoints.registryOf(ImageReference.parse("localhost:5000/a")).apiBase())
        .hasToString("http://localhost:5000/v2/");
    assertThat(endpoints.registryOf(ImageReference.parse("[::1]:5000/a")).apiBase())
        .hasToString("http://[::1]:5000/v2/");
    assertThat(endpoints.registryOf(ImageReference.parse("registry.lan:5000/a")).apiBase())
        .hasToString("http://registry.lan:5000/v2/");
    assertThat(endpoints.registryOf(ImageReference.parse("registry.lan:5001/a")).apiBase())
        .hasToString("https://registry.lan:5001/v2/");
  }

  @Test
  void urls_mountAndReferrers_wellFormed() {
    var ref = ImageReference.parse("127.0.0.1:5000/team/app:1");
    Digest digest = Digest.sha256(new byte[0]);
    ImageRegistry registry = endpoints.registryOf(ref);
    assertThat(endpoints.mount(registry, ref, digest, "team/other"))
        .hasToString(
            "http://127.0.0.1:5000/v2/team/app/blobs/uploads/?mount="
                + digest
                + "&from=team%2Fother");
    assertThat(endpoints.referrers(registry, ref, digest))
        .hasToString("http://127.0.0.1:5000/v2/team/app/referrers/" + digest);
    assertThat(RegistryClient.referrersTag(digest)).isEqualTo("sha256-" + digest.hex());
  }

  @TempDir Path dir;

  private Endpoints configured(String namespace, String hostsToml) throws Exception {
    Path hostDir = Files.createDirectories(dir.resolve(namespace));
    Files.writeString(hostDir.resolve("hosts.toml"), hostsToml);
    return new Endpoints(Set.of(), RegistryHosts.load(dir));
  }

  @Test
  void candidates_mirrorsWithTheCapability_inFileOrderThenTheServer() throws Exception {
    Endpoints hosts =
        configured(
            "docker.io",
            """
            [host."https://public-mirror.example"]
              capabilities = ["pull"]
            [host."http://10.0.0.1:5000/cache"]
              capabilities = ["pull", "resolve"]
            """);
    var ref = ImageReference.parse("debian:12");

    List<ImageRegistry> pull = hosts.candidates(ref, EndpointFallback.PULL, "read");
    assertThat(pull)
        .extracting(r -> r.apiBase().toString())
        .containsExactly(
            "https://public-mirror.example/v2/",
            "http://10.0.0.1:5000/cache/v2/",
            "https://registry-1.docker.io/v2/");
    assertThat(pull).extracting(ImageRegistry::hasFallback).containsExactly(true, true, false);
    assertThat(pull.getLast().name())
        .as("credentials of the registry itself")
        .isEqualTo("docker.io");
    assertThat(pull.getFirst().name()).isEqualTo("public-mirror.example");
    assertThat(pull.getFirst().via()).isEqualTo(" via https://public-mirror.example/v2/");

    assertThat(hosts.candidates(ref, EndpointFallback.RESOLVE, "resolve"))
        .as("a public mirror is not trusted to resolve tags")
        .extracting(r -> r.apiBase().toString())
        .containsExactly("http://10.0.0.1:5000/cache/v2/", "https://registry-1.docker.io/v2/");
    assertThat(hosts.pushTarget(ref, "push").apiBase())
        .hasToString("https://registry-1.docker.io/v2/");
    assertThat(hosts.candidates(ImageReference.parse("quay.io/a/b:1"), EndpointFallback.PULL, "x"))
        .as("other registries are untouched")
        .extracting(r -> r.apiBase().toString())
        .containsExactly("https://quay.io/v2/");
  }

  @Test
  void candidates_serverOnlyWithPull_refusesPushNamingTheFile() throws Exception {
    Endpoints hosts =
        configured(
            "_default",
            """
            server = "registry.example/base"
            capabilities = ["pull", "resolve"]
            override_path = true
            """);
    var ref = ImageReference.parse("ghcr.io/team/app:1");
    assertThat(hosts.candidates(ref, EndpointFallback.RESOLVE, "resolve"))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.apiBase()).hasToString("https://registry.example/base/");
              assertThat(r.name()).isEqualTo("registry.example");
              assertThat(r.hasFallback()).isFalse();
            });
    assertThatThrownBy(() -> hosts.pushTarget(ref, "push blob x to team/app"))
        .isInstanceOf(RegistryProtocolException.class)
        .hasMessageStartingWith("push blob x to team/app: no endpoint in ")
        .hasMessageContaining(dir.resolve("_default/hosts.toml").toString())
        .hasMessageContaining("[push]");
  }

  @Test
  void candidates_configMirrors_beforeHostsTomlEndpoints() throws Exception {
    Path hostDir = Files.createDirectories(dir.resolve("127.0.0.1:5000"));
    Files.writeString(hostDir.resolve("hosts.toml"), "[host.\"http://127.0.0.1:5002\"]\n");
    var hosts =
        RegistryHosts.load(dir)
            .withMirrors(Map.of("127.0.0.1:5000", List.of("http://127.0.0.1:5001")), "config.toml");
    var endpoints = new Endpoints(Set.of(), hosts);
    assertThat(
            endpoints.candidates(
                ImageReference.parse("127.0.0.1:5000/a:1"), EndpointFallback.RESOLVE, "x"))
        .extracting(r -> r.apiBase().toString())
        .containsExactly(
            "http://127.0.0.1:5001/v2/", "http://127.0.0.1:5002/v2/", "http://127.0.0.1:5000/v2/");
  }
}
