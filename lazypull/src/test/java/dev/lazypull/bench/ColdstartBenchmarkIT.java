package dev.lazypull.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs bench/coldstart in its small form (the minbase image, 2 repetitions, no chart) and checks
 * that it finishes and prints a complete report: every variant with a median, the floor, the
 * measured link and the side figures. It asserts no timing; the figures themselves are the
 * benchmark's business. The link is set fast (1 Gbit/s, 5 ms) to keep the run short.
 */
class ColdstartBenchmarkIT {
  private static final long TIMEOUT_MINUTES = 10;
  private static final List<String> VARIANT_ROWS =
      List.of(
          "containerd overlayfs (full pull)",
          "skopeo + umoci + runc (full pull)",
          "lazypull run",
          "lazypull snapshotter + containerd",
          "lazypull run, eStargz",
          "floor (ideal)");
  private static final String NUMBER = "[0-9]+(\\.[0-9]+)?";

  @TempDir Path out;

  @Test
  void coldstart_minbaseTwoReps_printsCompleteTableAndCleansUp() throws Exception {
    List<String> namespacesBefore = benchNamespaces();
    Path log = out.resolve("coldstart.log");
    Process process =
        new ProcessBuilder(
                projectRoot().resolve("bench/coldstart").toString(),
                "--images",
                "minbase",
                "--reps",
                "2",
                "--rate",
                "1000",
                "--rtt",
                "5",
                "--no-chart",
                "--out",
                out.resolve("results").toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    boolean finished = process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
    if (!finished) {
      process.destroy(); // SIGTERM: the script's trap removes the namespace and daemons
      process.waitFor(60, TimeUnit.SECONDS);
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(finished)
        .as("finished within %d min; output:%n%s", TIMEOUT_MINUTES, output)
        .isTrue();
    assertThat(process.exitValue()).as("exit code; output:%n%s", output).isZero();

    assertThat(output).containsPattern("link: " + NUMBER + " Mbit/s achieved");
    for (String row : VARIANT_ROWS) {
      assertThat(output)
          .as("table row '%s' with a numeric median", row)
          .containsPattern("\\| " + Pattern.quote(row) + " \\| " + NUMBER + " \\|");
    }
    assertThat(output).doesNotContain("FAILED").doesNotContain("counted as failed");
    assertThat(output)
        .containsPattern("\\| minbase \\| " + NUMBER + " s / " + NUMBER + " s = " + NUMBER + "x");
    try (Stream<Path> reports = Files.list(out.resolve("results"))) {
      assertThat(reports.map(p -> p.getFileName().toString()).toList())
          .hasSize(1)
          .allMatch(name -> name.endsWith(".md"));
    }
    assertThat(benchNamespaces()).isEqualTo(namespacesBefore);
  }

  /** The network namespaces bench/coldstart makes (lpcs + its PID), to check none is left. */
  private static List<String> benchNamespaces() throws IOException, InterruptedException {
    Process process = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
    String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return text.lines().filter(line -> line.startsWith("lpcs")).sorted().toList();
  }

  private static Path projectRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isExecutable(dir.resolve("bench/coldstart"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "no bench/coldstart above " + Path.of("").toAbsolutePath() + "; run from the checkout");
  }
}
