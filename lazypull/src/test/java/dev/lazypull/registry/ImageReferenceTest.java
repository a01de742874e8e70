package dev.lazypull.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.oci.Digest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImageReferenceTest {

  private static final String HEX = "a".repeat(64);

  @Test
  void parse_bareName_dockerHubLibraryLatest() {
    var ref = ImageReference.parse("debian");
    assertThat(ref.registry()).isEqualTo("docker.io");
    assertThat(ref.apiHost()).isEqualTo("registry-1.docker.io");
    assertThat(ref.repository()).isEqualTo("library/debian");
    assertThat(ref.tag()).isEqualTo("latest");
    assertThat(ref.digest()).isNull();
    assertThat(ref).hasToString("docker.io/library/debian:latest");
  }

  @Test
  void parse_hubUserRepository_noLibraryPrefix() {
    var ref = ImageReference.parse("docker.io/someone/tool:1.2");
    assertThat(ref.repository()).isEqualTo("someone/tool");
    assertThat(ref.tag()).isEqualTo("1.2");
  }

  @Test
  void parse_hostPortPathTagDigest_allParts() {
    var ref = ImageReference.parse("127.0.0.1:5000/a/b/c:v1@sha256:" + HEX);
    assertThat(ref.registry()).isEqualTo("127.0.0.1:5000");
    assertThat(ref.apiHost()).isEqualTo("127.0.0.1:5000");
    assertThat(ref.repository()).isEqualTo("a/b/c");
    assertThat(ref.tag()).isEqualTo("v1");
    assertThat(ref.digest()).isEqualTo(Digest.parse("sha256:" + HEX));
    assertThat(ref.manifestReference()).isEqualTo("sha256:" + HEX);
  }

  @Test
  void parse_digestOnly_noDefaultTag() {
    var ref = ImageReference.parse("localhost/app@sha256:" + HEX);
    assertThat(ref.registry()).isEqualTo("localhost");
    assertThat(ref.tag()).isNull();
    assertThat(ref.manifestReference()).isEqualTo("sha256:" + HEX);
  }

  @Test
  void parse_ipv6Host_withPort() {
    var ref = ImageReference.parse("[::1]:5000/app:2");
    assertThat(ref.registry()).isEqualTo("[::1]:5000");
    assertThat(ref.tag()).isEqualTo("2");
    assertThat(ImageRegistry.isLoopback(ref.apiHost())).isTrue();
  }

  @Test
  void isLoopback_onlyLoopbackNames() {
    assertThat(ImageRegistry.isLoopback("localhost:5000")).isTrue();
    assertThat(ImageRegistry.isLoopback("127.0.0.1")).isTrue();
    assertThat(ImageRegistry.isLoopback("registry.example.com:5000")).isFalse();
    assertThat(ImageRegistry.isLoopback("127.0.0.1.example.com")).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "Upper/Case",
        "app:",
        "app:bad tag",
        "app@sha256:123",
        "host:5000/",
        "a//b",
        " debian"
      })
  void parse_malformed_namesTextAndExpectedForm(String text) {
    assertThatThrownBy(() -> ImageReference.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an image reference")
        .hasMessageContaining("expected [host[:port]/]path[:tag][@sha256:<hex>]");
  }
}
