package dev.lazypull.ztoc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class TarPathsTest {

  @Test
  void clean_rawTarNames_normaliseLikeCleanOfSlashName() {
    assertThat(TarPaths.clean("./bin/sh")).isEqualTo("bin/sh");
    assertThat(TarPaths.clean("etc/")).isEqualTo("etc");
    assertThat(TarPaths.clean("./")).isEmpty();
    assertThat(TarPaths.clean("/")).isEmpty();
    assertThat(TarPaths.clean("a//b/./c/../d")).isEqualTo("a/b/d");
    assertThat(TarPaths.clean("../../etc/passwd")).isEqualTo("etc/passwd");
  }

  @Test
  void parse_rfc3339WithOffsets_keepsTheInstantAndOffset() {
    var withOffset = ModTimes.parse("2021-07-23T12:35:25-05:00");

    assertThat(withOffset.toInstant()).isEqualTo(Instant.parse("2021-07-23T17:35:25Z"));
    assertThat(withOffset.getOffset()).isEqualTo(ZoneOffset.ofHours(-5));
    assertThat(ModTimes.parse("2023-11-14T22:13:20.123456789Z").getNano()).isEqualTo(123456789);
    assertThatThrownBy(() -> ModTimes.parse("yesterday"))
        .hasMessageContaining("not an RFC 3339 time");
  }

  @Test
  void format_instants_useUtcAndOnlyNeededFractionDigits() {
    assertThat(ModTimes.format(Instant.ofEpochSecond(1700000000)))
        .isEqualTo("2023-11-14T22:13:20Z");
    assertThat(ModTimes.format(Instant.ofEpochSecond(1700000000, 5_000_000)))
        .isEqualTo("2023-11-14T22:13:20.005Z");
  }
}
