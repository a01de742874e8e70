package dev.lazypull.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs a busybox rootfs through overlay and the real runc, as {@code lazypull run} does. */
class ContainerRunIT {
  @TempDir static Path scratch;
  static Path rootfs;

  @BeforeAll
  static void makeRootfs() throws Exception {
    assertThat(Path.of("/bin/busybox")).as("busybox-static (scripts/install-deps.sh)").exists();
    rootfs = scratch.resolve("image");
    Files.createDirectories(rootfs.resolve("bin"));
    Files.createDirectories(rootfs.resolve("etc"));
    Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
    for (String tool : List.of("sh", "echo", "cat", "id", "touch", "pwd")) {
      Files.createSymbolicLink(rootfs.resolve("bin/" + tool), Path.of("busybox"));
    }
    Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
  }

  private ContainerRun.Result run(RunOptions options, ByteArrayOutputStream out) throws Exception {
    var config =
        new ObjectMapper().readTree("{\"config\":{\"Cmd\":[\"/bin/sh\"],\"Env\":[\"PATH=/bin\"]}}");
    PrintStream saved = System.out;
    System.setOut(new PrintStream(out, true));
    try (var dir = RunDirectory.create(scratch.resolve("runs"));
        var cleanup = new CleanupStack()) {
      cleanup.push(dir::close);
      return new ContainerRun(new Runc(scratch.resolve("runc")))
          .run(dir, cleanup, rootfs, config, p -> null, options, true);
    } finally {
      System.setOut(saved);
    }
  }

  @Test
  void run_passesOutputAndExitCode() throws Exception {
    var out = new ByteArrayOutputStream();
    var options =
        new RunOptions(
            null,
            List.of("sh", "-c", "echo hello from $(id -u); touch /new; exit 3"),
            List.of(),
            null,
            "4242",
            List.of(),
            false,
            false);
    var result = run(options, out);
    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(out.toString()).isEqualTo("hello from 4242\n");
    assertThat(result.firstOutputNanos()).isPositive();
    assertThat(rootfs.resolve("new")).as("writes go to the upper dir").doesNotExist();
    assertThat(RunDirectory.mountsBelow(scratch)).isEmpty();
    try (var runs = Files.list(scratch.resolve("runs"))) {
      assertThat(runs).isEmpty();
    }
  }

  @Test
  void run_bindMountAndWorkingDir() throws Exception {
    Path shared = Files.createDirectories(scratch.resolve("shared"));
    Files.writeString(shared.resolve("f"), "bound\n");
    var out = new ByteArrayOutputStream();
    var options =
        new RunOptions(
            null,
            List.of("sh", "-c", "cat /mnt/f; pwd"),
            List.of(),
            "/etc",
            null,
            List.of(shared + ":/mnt:ro"),
            false,
            true);
    var result = run(options, out);
    assertThat(result.exitCode()).isZero();
    assertThat(out.toString()).isEqualTo("bound\n/etc\n");
  }
}
