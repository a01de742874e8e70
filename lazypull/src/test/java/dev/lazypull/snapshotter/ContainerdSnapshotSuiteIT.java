package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * containerd's own snapshotter test suite (containerd 1.6's {@code snapshots/testsuite}, which no
 * one here wrote) against the snapshotter daemon, by {@code scripts/containerd-snapshot-suite.sh}.
 * Long: it builds a Go test binary and starts a daemon per case (about three minutes here).
 */
@EnabledIfSystemProperty(named = "lazypull.long", matches = "true")
class ContainerdSnapshotSuiteIT {
  private static final Path SCRIPT =
      Path.of("..", "scripts", "containerd-snapshot-suite.sh").toAbsolutePath();

  @TempDir Path dir;

  @Test
  void containerdSnapshotTestsuite_passesEveryCase() throws Exception {
    Path output = dir.resolve("suite.log");
    Process suite =
        new ProcessBuilder(SCRIPT.toString())
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    assertThat(suite.waitFor(25, TimeUnit.MINUTES)).as("suite ended in 25 min").isTrue();
    List<String> lines = Files.readAllLines(output);
    List<String> verdicts =
        lines.stream().filter(l -> l.contains("--- FAIL") || l.contains(".go:")).toList();
    assertThat(suite.exitValue()).as(String.join("\n", verdicts)).isZero();
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("--- PASS: TestLazypullSnapshotter/"));
  }
}
