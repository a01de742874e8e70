package dev.lazypull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.testing.DebianImages;
import dev.lazypull.testing.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/lazypull run} of a real Debian image from the real registry, as a user runs it. */
class RunCommandIT {
  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();
  private static final Path LAUNCHER = Path.of("..", "bin", "lazypull").toAbsolutePath();

  @TempDir static Path scratch;
  static String image;

  @BeforeAll
  static void pushAndConvert() {
    Path layout = DebianImages.minbase();
    String source = registry.reference("debian:minbase").toString();
    DebianImages.pushToRegistry(layout, DebianImages.TAG, source);
    image = registry.reference("debian:soci").toString();
    assertThat(
            Main.newCommandLine().execute("convert", "--min-layer-size", "1000000", source, image))
        .isZero();
  }

  private record Outcome(int exitCode, String stdout, String stderr) {}

  private static Process start(String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                LAUNCHER.toString(),
                "run",
                "--cache-dir",
                scratch.resolve("cache").toString(),
                "--run-dir",
                scratch.resolve("run").toString()));
    command.addAll(List.of(args));
    var builder = new ProcessBuilder(command);
    builder.redirectError(scratch.resolve("stderr.txt").toFile());
    return builder.start();
  }

  private static Outcome run(String... args) throws Exception {
    Process process = start(args);
    String out = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Outcome(process.exitValue(), out, Files.readString(scratch.resolve("stderr.txt")));
  }

  @Test
  void run_printsOutputAndPassesTheExitCodeThrough() throws Exception {
    Outcome outcome =
        run(
            "--stats",
            image,
            "--",
            "sh",
            "-c",
            "cat /etc/debian_version; echo to-stderr >&2; exit 3");
    assertThat(outcome.exitCode()).as(outcome.stderr()).isEqualTo(3);
    assertThat(outcome.stdout()).startsWith("12.");
    assertThat(outcome.stderr()).contains("to-stderr").contains("lazypull stats: first output");
  }

  @Test
  void run_userNameIsLookedUpInTheImage() throws Exception {
    Outcome outcome =
        run(
            "--user",
            "nobody",
            "-w",
            "/tmp",
            "-e",
            "GREETING=hi",
            image,
            "--",
            "sh",
            "-c",
            "echo $(id -u):$(id -g) $(pwd) $GREETING");
    assertThat(outcome.stdout()).as(outcome.stderr()).isEqualTo("65534:65534 /tmp hi\n");
  }

  @Test
  void run_sigtermCleansUpEverything() throws Exception {
    Process process = start(image, "--", "sleep", "300");
    Path runs = scratch.resolve("run/runs");
    for (int i = 0; i < 600 && !containerRunning(); i++) {
      Thread.sleep(100);
    }
    assertThat(containerRunning()).as("the container started").isTrue();
    process.destroy();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    for (int i = 0; i < 300 && containerRunning(); i++) {
      Thread.sleep(100);
    }
    assertThat(containerRunning())
        .as(
            "the container was stopped; lazypull said: %s",
            Files.readString(scratch.resolve("stderr.txt")))
        .isFalse();
    try (var left = Files.list(runs)) {
      assertThat(left).as("run directories left").isEmpty();
    }
  }

  @Test
  void run_commandNotInTheImageIs127WithOneLine() throws Exception {
    Outcome outcome = run(image, "--", "nosuchcmd", "arg");
    assertThat(outcome.exitCode()).isEqualTo(127);
    assertThat(outcome.stderr().strip())
        .contains("no executable 'nosuchcmd' on its PATH")
        .doesNotContain("\n");
    assertThat(run(image, "--", "/usr/bin/../bin/true").exitCode()).isZero();
  }

  @Test
  void run_ttyWithoutATerminalIsRefused() throws Exception {
    Outcome outcome = run("-t", image, "--", "true");
    assertThat(outcome.exitCode()).isEqualTo(1);
    assertThat(outcome.stderr()).contains("-t needs a terminal");
  }

  @Test
  void run_imageWithoutIndexRunsAfterAFullFetchWithANotice() throws Exception {
    Outcome outcome =
        run(registry.reference("debian:minbase").toString(), "--", "cat", "/etc/debian_version");
    assertThat(outcome.exitCode()).as(outcome.stderr()).isZero();
    assertThat(outcome.stdout()).startsWith("12.");
    assertThat(outcome.stderr()).contains("has no SOCI index");
  }

  @Test
  void run_removesWhatAKilledRunLeft() throws Exception {
    Path leftover = Files.createDirectories(scratch.resolve("run/runs/999999999-dead/lower"));
    Outcome outcome = run(image, "--", "true");
    assertThat(outcome.exitCode()).as(outcome.stderr()).isZero();
    assertThat(leftover.getParent()).doesNotExist();
  }

  private static boolean containerRunning() throws Exception {
    Process ps = new ProcessBuilder("pgrep", "-f", "^sleep 300$").start();
    ps.getInputStream().readAllBytes();
    return ps.waitFor() == 0;
  }

  @Test
  void run_sigkillOfLazypullStopsTheContainer() throws Exception {
    // kill -9 of `lazypull run` left the inner lazypull and the container running on.
    Process process = start(image, "--", "sleep", "302");
    for (int i = 0; i < 600 && !running("^sleep 302$"); i++) {
      Thread.sleep(100);
    }
    assertThat(running("^sleep 302$")).as("the container started").isTrue();
    process.destroyForcibly();
    assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
    for (int i = 0; i < 300 && running("^sleep 302$"); i++) {
      Thread.sleep(100);
    }
    assertThat(running("^sleep 302$")).as("the container was stopped").isFalse();
    Path runs = scratch.resolve("run/runs");
    for (int i = 0; i < 100 && Files.list(runs).findAny().isPresent(); i++) {
      Thread.sleep(100);
    }
    try (var left = Files.list(runs)) {
      assertThat(left).as("run directories left").isEmpty();
    }
  }

  private static boolean running(String pattern) throws Exception {
    Process ps = new ProcessBuilder("pgrep", "-f", pattern).start();
    ps.getInputStream().readAllBytes();
    return ps.waitFor() == 0;
  }
}
