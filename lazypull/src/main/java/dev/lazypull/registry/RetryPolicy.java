package dev.lazypull.registry;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * The one place that decides whether a failed request is tried again and after how long: connection
 * errors, 429 and 5xx are retried with exponential backoff and full jitter, honouring Retry-After,
 * at most {@code maxAttempts} times and within {@code maxTotal}.
 */
public record RetryPolicy(
    int maxAttempts, Duration baseDelay, Duration maxDelay, Duration maxTotal) {

  public static final RetryPolicy DEFAULT =
      new RetryPolicy(5, Duration.ofMillis(200), Duration.ofSeconds(10), Duration.ofSeconds(60));

  /** Never retry. */
  public static final RetryPolicy NONE =
      new RetryPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ZERO);

  /** Whether an answer with this status may succeed when asked again. */
  static boolean isRetryableStatus(int status) {
    return status == 429 || status == 502 || status == 503 || status == 504 || status == 500;
  }

  /**
   * How long to wait before attempt {@code attemptsMade + 1}, or empty to give up.
   *
   * @param attemptsMade attempts already sent
   * @param elapsed time since the first attempt
   * @param retryAfter the Retry-After header of the last answer, or null
   */
  Optional<Duration> delayBeforeNext(
      int attemptsMade, Duration elapsed, @Nullable String retryAfter) {
    if (attemptsMade >= maxAttempts) {
      return Optional.empty();
    }
    Duration delay = serverDelay(retryAfter);
    if (delay == null) {
      long ceiling =
          Math.min(maxDelay.toMillis(), baseDelay.toMillis() << Math.min(attemptsMade, 20));
      delay = Duration.ofMillis(ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1));
    }
    if (elapsed.plus(delay).compareTo(maxTotal) > 0) {
      return Optional.empty();
    }
    return Optional.of(delay);
  }

  /** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
  private static @Nullable Duration serverDelay(@Nullable String retryAfter) {
    if (retryAfter == null || retryAfter.isBlank()) {
      return null;
    }
    String value = retryAfter.strip();
    try {
      return Duration.ofSeconds(Math.max(0, Long.parseLong(value)));
    } catch (NumberFormatException notSeconds) {
      try {
        var at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME);
        var delay = Duration.between(ZonedDateTime.now(at.getZone()), at);
        return delay.isNegative() ? Duration.ZERO : delay;
      } catch (DateTimeParseException notDate) {
        return null;
      }
    }
  }
}
