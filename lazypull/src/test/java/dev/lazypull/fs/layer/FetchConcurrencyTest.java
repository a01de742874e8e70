package dev.lazypull.fs.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FetchConcurrencyTest {
  @AfterEach
  void unlimited() {
    FetchConcurrency.limit(0);
  }

  @Test
  void acquire_beyondTheLimit_failsAtTheDeadlineNamingTheSetting() throws Exception {
    FetchConcurrency.limit(1);
    long soon = System.nanoTime() + Duration.ofMillis(100).toNanos();
    try (var held = FetchConcurrency.acquire(soon, "fetching a range of L")) {
      assertThatThrownBy(() -> FetchConcurrency.acquire(soon, "fetching a range of L"))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("fetching a range of L")
          .hasMessageContaining("[fetch] concurrency");
    }
    // Given back on close: the next one gets it.
    try (var again =
        FetchConcurrency.acquire(System.nanoTime() + Duration.ofSeconds(5).toNanos(), "again")) {
      assertThat(again).isNotNull();
    }
  }

  @Test
  void limit_refusesNegative() {
    assertThatThrownBy(() -> FetchConcurrency.limit(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
