package dev.lazypull.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CredentialsTest {

  @Test
  void parse_noColonSaysThePasswordIsMissing() {
    assertThatThrownBy(() -> Credentials.parse("nocolon"))
        .hasMessageContaining("password is missing")
        .hasMessageNotContaining("user is missing");
  }

  @Test
  void parse_leadingColonSaysTheUserIsMissing() {
    assertThatThrownBy(() -> Credentials.parse(":secret")).hasMessageContaining("user is missing");
  }

  @Test
  void parse_passwordMayHoldColons() {
    assertThat(Credentials.parse("me:a:b")).isEqualTo(new Credentials("me", "a:b"));
  }
}
