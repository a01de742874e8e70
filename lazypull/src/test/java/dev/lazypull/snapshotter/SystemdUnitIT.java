package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** packaging/systemd/lazypull-snapshotter.service passes {@code systemd-analyze verify}. */
class SystemdUnitIT {
  private static final Path UNIT =
      Path.of("..", "packaging", "systemd", "lazypull-snapshotter.service").toAbsolutePath();
  private static final Path LAUNCHER = Path.of("..", "bin", "lazypull").toAbsolutePath();
  private static final Path ANALYZE = Path.of("/usr/bin/systemd-analyze");

  @TempDir Path dir;

  @Test
  void verify_reportsNothing() throws Exception {
    assertThat(ANALYZE)
        .as("systemd-analyze (scripts/install-deps.sh installs systemd)")
        .isExecutable();
    // The unit names the installed launcher; verify checks that ExecStart is executable.
    String unit =
        Files.readString(UNIT).replace("/usr/local/bin/lazypull", LAUNCHER.normalize().toString());
    Path copy = Files.writeString(dir.resolve("lazypull-snapshotter.service"), unit);

    Process verify =
        new ProcessBuilder(ANALYZE.toString(), "verify", copy.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(verify.getInputStream().readAllBytes());
    assertThat(verify.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(verify.exitValue()).as(output).isZero();
    assertThat(output).as("warnings (unknown keys are only warned about)").isBlank();
  }
}
