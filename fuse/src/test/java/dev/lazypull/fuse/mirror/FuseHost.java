package dev.lazypull.fuse.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.lazypull.fuse.linux.Libc;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** What the FUSE integration tests need of the machine, and running its tools. */
final class FuseHost {
  private FuseHost() {}

  /** Fails loudly, never skips: these tests must run as root with /dev/fuse present. */
  static void require() {
    if (Libc.getuid() != 0) {
      fail("FUSE integration tests mount filesystems and need root; run scripts/test.sh as root");
    }
    if (!Files.exists(Path.of("/dev/fuse"))) {
      fail("/dev/fuse is missing: load the fuse module or give the container --device /dev/fuse");
    }
  }

  /** Runs a command in {@code directory}, bounded in time; returns its stdout bytes. */
  static byte[] run(Path directory, String... command) throws IOException, InterruptedException {
    var process =
        new ProcessBuilder(command)
            .directory(directory.toFile())
            .redirectError(ProcessBuilder.Redirect.PIPE)
            .start();
    var stdout = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
    var stderr = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("%s did not finish within 120 s in %s", List.of(command), directory);
    }
    assertThat(process.exitValue())
        .as("%s in %s; stderr: %s", List.of(command), directory, new String(stderr.join()))
        .isZero();
    return stdout.join();
  }

  static byte[] bash(Path directory, String script) throws IOException, InterruptedException {
    return run(directory, "bash", "-c", script);
  }

  private static byte[] readAll(InputStream in) {
    try (in) {
      var out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The /proc/mounts line of {@code mountPoint}, or null if nothing is mounted there. */
  static String mountLine(Path mountPoint) throws IOException {
    var target = " " + mountPoint.toAbsolutePath() + " ";
    return Files.readAllLines(Path.of("/proc/mounts")).stream()
        .filter(line -> line.contains(target))
        .findFirst()
        .orElse(null);
  }
}
