package dev.lazypull.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.oci.Digest;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EndpointsTest {

  private final Endpoints endpoints = new Endpoints(Set.of("registry.lan:5000"));

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
    assertThat(endpoints.mount(ref, digest, "team/other"))
        .hasToString(
            "http://127.0.0.1:5000/v2/team/app/blobs/uploads/?mount="
                + digest
                + "&from=team%2Fother");
    assertThat(endpoints.referrers(ref, digest))
        .hasToString("http://127.0.0.1:5000/v2/team/app/referrers/" + digest);
    assertThat(RegistryClient.referrersTag(digest)).isEqualTo("sha256-" + digest.hex());
  }
}
