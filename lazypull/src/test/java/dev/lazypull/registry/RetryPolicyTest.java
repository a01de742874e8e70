package dev.lazypull.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  private final RetryPolicy policy =
      new RetryPolicy(4, Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofSeconds(30));

  @Test
  void delayBeforeNext_retryAfterSeconds_honoured() {
    assertThat(policy.delayBeforeNext(1, Duration.ZERO, "3")).contains(Duration.ofSeconds(3));
  }

  @Test
  void delayBeforeNext_retryAfterHttpDate_honoured() {
    String inTenSeconds =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now().plusSeconds(10));
    Duration delay = policy.delayBeforeNext(1, Duration.ZERO, inTenSeconds).orElseThrow();
    assertThat(delay).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(10));
  }

  @Test
  void delayBeforeNext_backoffGrowsWithJitterUnderCeiling() {
    for (int attempt = 1; attempt < 4; attempt++) {
      long ceiling = Math.min(2000, 100L << attempt);
      Duration delay = policy.delayBeforeNext(attempt, Duration.ZERO, null).orElseThrow();
      assertThat(delay.toMillis()).isBetween(ceiling / 2, ceiling);
    }
  }

  @Test
  void delayBeforeNext_attemptsExhausted_empty() {
    assertThat(policy.delayBeforeNext(4, Duration.ZERO, null)).isEmpty();
  }

  @Test
  void delayBeforeNext_retryAfterBeyondTotalBudget_empty() {
    assertThat(policy.delayBeforeNext(1, Duration.ofSeconds(25), "10")).isEmpty();
  }

  @Test
  void isRetryableStatus_only429And5xx() {
    assertThat(RetryPolicy.isRetryableStatus(429)).isTrue();
    assertThat(RetryPolicy.isRetryableStatus(503)).isTrue();
    assertThat(RetryPolicy.isRetryableStatus(404)).isFalse();
    assertThat(RetryPolicy.isRetryableStatus(501)).isFalse();
  }
}
