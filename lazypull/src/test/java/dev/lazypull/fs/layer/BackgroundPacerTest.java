package dev.lazypull.fs.layer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BackgroundPacerTest {
  @Test
  void awaitTurn_waitsOutTheStartDelay() throws Exception {
    var pacer = new BackgroundFetchPolicy(Duration.ofMillis(300), Duration.ZERO, 0).pacer();
    long start = System.nanoTime();
    pacer.awaitTurn();
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());
  }

  @Test
  void awaitTurn_waitsWhileAReadOfAnyLayerIsInProgress() throws Exception {
    var pacer = BackgroundFetchPolicy.IMMEDIATE.pacer();
    var turn = new CountDownLatch(1);
    OnDemandActivity.readStarted();
    try {
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  pacer.awaitTurn();
                  turn.countDown();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      assertThat(turn.await(300, TimeUnit.MILLISECONDS)).as("turn while a read runs").isFalse();
    } finally {
      OnDemandActivity.readEnded();
    }
    assertThat(turn.await(10, TimeUnit.SECONDS)).as("turn once the read ended").isTrue();
  }

  @Test
  void busy_forTheQuietTimeAfterAnOnDemandFetch() throws Exception {
    OnDemandActivity.fetched();
    assertThat(OnDemandActivity.busy(Duration.ofHours(1))).isTrue();
    Thread.sleep(20);
    assertThat(OnDemandActivity.busy(Duration.ofMillis(10))).isFalse();
  }

  @Test
  void fetched_sleepsToKeepTheRate() throws Exception {
    var pacer = new BackgroundFetchPolicy(Duration.ZERO, Duration.ZERO, 4 << 20).pacer();
    long start = System.nanoTime();
    pacer.fetched(1 << 20);
    pacer.fetched(1 << 20);
    // 2 MiB at 4 MiB/s: at least half a second since the pacer was made.
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(490).toNanos());
  }

  @Test
  void policy_refusesNegativeValues() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new BackgroundFetchPolicy(Duration.ofSeconds(-1), Duration.ZERO, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must not be negative");
  }
}
