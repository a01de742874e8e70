package dev.lazypull.testing;

import dev.lazypull.oci.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real Debian bookworm images for tests, built by {@code scripts/build-image.sh} as OCI image
 * layouts and cached under /var/cache/lazypull/images, so only the first run pays for debootstrap
 * (about a minute for minbase, three for python). Recipes, gzip sizes: {@code minbase} (1 layer, 47
 * MiB), {@code python} (minbase + python3/numpy/scipy, 245 MiB), {@code jdk} (minbase +
 * openjdk-17-jdk-headless + maven/gradle, 296 MiB). See docs/test-images.md.
 */
public final class DebianImages {
  /** The tag every built layout carries in its index.json. */
  public static final String TAG = "latest";

  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(20);
  private static final Duration PUSH_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration CLEANUP_GRACE = Duration.ofSeconds(30);
  private static final int STDERR_TAIL_LINES = 15;

  private DebianImages() {}

  /** The one-layer {@code debootstrap --variant=minbase bookworm} image. */
  public static Path minbase() {
    return build("minbase");
  }

  /** The two-layer python3 + numpy + scipy image. */
  public static Path python() {
    return build("python");
  }

  /**
   * Builds (or reuses from the cache) the image of a recipe and returns its OCI layout dir, tagged
   * {@link #TAG}. Extra arguments go to the script, e.g. {@code "--packages", "file"} for a custom
   * image.
   */
  public static Path build(String recipe, String... scriptArgs) {
    var command = new ArrayList<String>();
    command.add(script("build-image.sh").toString());
    command.add(recipe);
    command.addAll(List.of(scriptArgs));
    String stdout =
        run(
            command,
            BUILD_TIMEOUT,
            "building Debian image '" + recipe + "'",
            "it needs root, debootstrap and http://deb.debian.org (run scripts/install-deps.sh)");
    var layout = Path.of(lastLine(stdout));
    if (!Files.isRegularFile(layout.resolve("index.json"))) {
      throw new IllegalStateException(
          "building Debian image '"
              + recipe
              + "': the script named "
              + layout
              + ", which has no index.json; delete /var/cache/lazypull/images/"
              + recipe
              + " and retry");
    }
    return layout;
  }

  /**
   * Pushes tag {@code tag} of {@code layout} to {@code destination} ({@code host:port/repo:tag},
   * plain HTTP) with skopeo, byte for byte, and returns the manifest digest the registry holds.
   * Fails if the registry's manifest or layer digests differ from the layout's.
   */
  public static Digest pushToRegistry(Path layout, String tag, String destination) {
    String stdout =
        run(
            List.of(script("push-image.sh").toString(), layout.toString(), tag, destination),
            PUSH_TIMEOUT,
            "pushing " + layout + ":" + tag + " to " + destination,
            "is the registry up and skopeo installed (scripts/install-deps.sh)?");
    return Digest.parse(lastLine(stdout));
  }

  /** The repository root: the nearest ancestor of the working dir with scripts/build-image.sh. */
  static Path projectRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isExecutable(dir.resolve("scripts/build-image.sh"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "no scripts/build-image.sh above "
            + Path.of("").toAbsolutePath()
            + "; run the tests from the lazypull checkout");
  }

  private static Path script(String name) {
    return projectRoot().resolve("scripts").resolve(name);
  }

  /** Runs a script with a bounded wait; returns its stdout, or throws with its stderr's tail. */
  private static String run(List<String> command, Duration timeout, String action, String hint) {
    try {
      Path stdout = Files.createTempFile("lazypull-script", ".out");
      Path stderr = Files.createTempFile("lazypull-script", ".err");
      try {
        Process process =
            new ProcessBuilder(command)
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile())
                .start();
        if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
          stop(process);
          throw new IllegalStateException(
              action + " did not finish in " + timeout + "; " + tail(stderr) + "; " + hint);
        }
        if (process.exitValue() != 0) {
          throw new IllegalStateException(
              action + " failed (exit " + process.exitValue() + "): " + tail(stderr) + "; " + hint);
        }
        return Files.readString(stdout, StandardCharsets.UTF_8);
      } finally {
        Files.deleteIfExists(stdout);
        Files.deleteIfExists(stderr);
      }
    } catch (IOException e) {
      throw new IllegalStateException(action + ": could not run " + command.getFirst(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(action + " was interrupted", e);
    }
  }

  /** SIGTERM first: the build script's trap then unmounts and deletes its work dir. */
  private static void stop(Process process) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(CLEANUP_GRACE.toSeconds(), TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }

  private static String tail(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    return String.join(
        " | ", lines.subList(Math.max(0, lines.size() - STDERR_TAIL_LINES), lines.size()));
  }

  private static String lastLine(String text) {
    String[] lines = text.strip().split("\n");
    return lines[lines.length - 1].strip();
  }
}
