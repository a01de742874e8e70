package dev.lazypull.registry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AuthChallengeTest {

  @Test
  void parse_bearerWithQuotedCommaScope_keepsWholeScope() {
    var challenge =
        AuthChallenge.parse(
            "Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
                + "scope=\"repository:a/b:pull,push\",error=\"invalid_token\"");
    assertThat(challenge).isNotNull();
    assertThat(challenge.isBearer()).isTrue();
    assertThat(challenge.parameter("realm")).isEqualTo("https://auth.example/token");
    assertThat(challenge.parameter("service")).isEqualTo("registry.example");
    assertThat(challenge.parameter("scope")).isEqualTo("repository:a/b:pull,push");
    assertThat(challenge.parameter("error")).isEqualTo("invalid_token");
  }

  @Test
  void parse_basicUnquoted_caseInsensitiveScheme() {
    var challenge = AuthChallenge.parse("BASIC realm=registry");
    assertThat(challenge).isNotNull();
    assertThat(challenge.isBasic()).isTrue();
    assertThat(challenge.parameter("realm")).isEqualTo("registry");
  }

  @Test
  void parse_missingOrBroken_null() {
    assertThat(AuthChallenge.parse(null)).isNull();
    assertThat(AuthChallenge.parse("  ")).isNull();
    assertThat(AuthChallenge.parse("Bearer realm=\"unterminated")).isNull();
  }
}
