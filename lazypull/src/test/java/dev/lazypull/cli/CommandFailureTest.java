package dev.lazypull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The one-line error: what it says beyond the exception's own message. */
class CommandFailureTest {

  @Test
  void oneLine_outOfMemoryAnywhereInTheCausesSaysHowToGiveMore() {
    var failure = new ExecutionException(new OutOfMemoryError("Java heap space"));

    assertThat(CommandFailure.oneLine(failure))
        .isEqualTo(
            "java.lang.OutOfMemoryError: Java heap space; the JVM ran out of memory, give it more"
                + " with LAZYPULL_JAVA_OPTS=-Xmx1g");
  }

  @Test
  void oneLine_otherFailuresKeepTheirMessageOnOneLine() {
    assertThat(CommandFailure.oneLine(new java.io.IOException("first\nsecond")))
        .isEqualTo("first second");
  }
}
