package dev.lazypull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.lazypull.fs.ImageFilesystem;
import dev.lazypull.fs.LazyImage;
import dev.lazypull.fs.layer.IndexedLayer;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.BigTestImage;
import dev.lazypull.testing.CountingProxy;
import dev.lazypull.testing.LocalRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The mounting process killed with SIGKILL while spans are being fetched and cached, then started
 * again on the same cache directory and mount point; and a cache directory that fills up.
 */
class MountCrashIT {
  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  private static final Path LAUNCHER = Path.of("..", "bin", "lazypull").toAbsolutePath();

  @TempDir Path scratch;

  @Test
  void mount_killedMidFetchRestartsOnTheSameCacheAndMountPointAndServesRightBytes()
      throws Exception {
    BigTestImage content = BigTestImage.of(1, 4, 8 << 20, 9);
    int spanCount = spanCount(content.pushAndConvert(registry, "crash", 256 << 10));
    Path cache = scratch.resolve("cache");
    Path spans = cache.resolve("spans");
    Path mountPoint = scratch.resolve("mnt");
    List<Path> daemonLogs = new ArrayList<>();
    try (var proxy = CountingProxy.to(registry.port())) {
      ImageReference image = proxy.reference("crash:soci");
      // Slow enough that the whole layer takes about 10 s: the kills land among fetches.
      proxy.throttle(3 << 20);

      // 1. In the foreground, killed while a reader and the background fetcher pull spans.
      Process foreground =
          new ProcessBuilder(
                  LAUNCHER.toString(),
                  "mount",
                  "--background-delay", // the background fetcher runs from the start
                  "0",
                  "--cache-dir",
                  cache.toString(),
                  image.toString(),
                  mountPoint.toString())
              .redirectErrorStream(true)
              .redirectOutput(scratch.resolve("foreground.log").toFile())
              .start();
      awaitMounted(mountPoint, foreground);
      readInBackground(mountPoint.resolve("data/l0-f0"));
      awaitSpanFiles(spans, 6);
      foreground.destroyForcibly(); // SIGKILL
      assertThat(foreground.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(countSpanFiles(spans))
          .as("killed in the middle of the layer's fetch")
          .isLessThan(spanCount);
      System.out.printf(
          "crash: killed with %d of %d spans cached, %d temporary files left%n",
          countSpanFiles(spans), spanCount, countTempFiles(spans));
      assertThat(MountCommand.isLazypullMount(mountPoint))
          .as("the kernel keeps the dead mount")
          .isTrue();

      // Damage that a power loss could leave: a span cut short, a flipped byte, a temp file.
      List<Path> spanFiles = spanFiles(spans);
      Path cutShort = spanFiles.get(0);
      Path flipped = spanFiles.get(1);
      Files.write(cutShort, java.util.Arrays.copyOf(Files.readAllBytes(cutShort), 1000));
      byte[] bytes = Files.readAllBytes(flipped);
      bytes[500] ^= 0x40;
      Files.write(flipped, bytes);
      Path staleTemp = cutShort.resolveSibling("12345." + Integer.MAX_VALUE + ".7.tmp");
      Files.write(staleTemp, new byte[100]);

      // 2. As a daemon on the same (dead) mount point, killed again among fetches.
      DaemonMount second = startDaemon(cache, image, mountPoint);
      daemonLogs.add(second.log());
      readInBackground(mountPoint.resolve("data/l0-f3"));
      awaitSpanFiles(spans, countSpanFiles(spans) + 6);
      ProcessHandle.of(second.pid()).orElseThrow().destroyForcibly();
      ProcessHandle.of(second.pid()).ifPresent(p -> p.onExit().join());
      run(LAUNCHER.toString(), "umount", mountPoint.toString()); // detaches the dead mount
      assertThat(MountCommand.isLazypullMount(mountPoint)).isFalse();

      // 3. Once more, at full speed: every byte right, no repair by hand.
      proxy.throttle(0);
      DaemonMount third = startDaemon(cache, image, mountPoint);
      daemonLogs.add(third.log());
      for (var file : content.files().entrySet()) {
        assertThat(Files.readAllBytes(mountPoint.resolve(file.getKey())))
            .as(file.getKey() + " after two kills")
            .isEqualTo(file.getValue());
      }
      assertThat(staleTemp).as("a dead writer's temporary file is deleted").doesNotExist();
      // The second run may have come across them first.
      assertThat(Files.readString(second.log()) + Files.readString(third.log()))
          .contains("deleting damaged span " + cutShort)
          .contains("deleting damaged span " + flipped);
      run(LAUNCHER.toString(), "umount", mountPoint.toString());
      ProcessHandle.of(third.pid()).ifPresent(p -> p.onExit().join());
      assertThat(MountCommand.isLazypullMount(mountPoint)).isFalse();
      dev.lazypull.testing.SpanCacheCheck.assertEverySpanWholeAndNoTemporaryFiles(spans);
    } finally {
      if (MountCommand.isLazypullMount(mountPoint)) {
        new ProcessBuilder("umount", "-l", mountPoint.toString()).start().waitFor();
      }
      for (Path log : daemonLogs) {
        Files.deleteIfExists(log);
      }
    }
  }

  @Test
  void read_cacheOnAFullTmpfsServesRightBytesUncachedWithALogLine() throws Exception {
    BigTestImage content = BigTestImage.of(1, 2, 4 << 20, 10);
    ImageReference converted = content.pushAndConvert(registry, "full", 256 << 10);
    Path small = Files.createDirectories(scratch.resolve("small"));
    run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small.toString());
    var logs = new ListAppender<ILoggingEvent>();
    var logger = (Logger) LoggerFactory.getLogger(IndexedLayer.class);
    logs.start();
    logger.addAppender(logs);
    try (LazyImage image =
        LazyImage.open(
            RegistryClient.create(RegistryOptions.defaults()),
            converted,
            new LazyImage.Options(small, 1L << 30, Duration.ofSeconds(30), null, false))) {
      Path mountPoint = Files.createDirectories(scratch.resolve("mnt"));
      try (FuseMount mount =
          FuseMount.mount(
              mountPoint,
              new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"))) {
        for (var file : content.files().entrySet()) {
          assertThat(Files.readAllBytes(mountPoint.resolve(file.getKey())))
              .as(file.getKey() + " with a full cache disk")
              .isEqualTo(file.getValue());
        }
      }
      assertThat(image.counters().cacheWriteFailures()).isPositive();
      assertThat(logs.list)
          .extracting(ILoggingEvent::getFormattedMessage)
          .anyMatch(m -> m.startsWith("cannot write to the span cache") && m.contains("uncached"));
    } finally {
      logger.detachAppender(logs);
      Process umount = new ProcessBuilder("umount", small.toString()).start();
      if (umount.waitFor() != 0) {
        run("umount", "-l", small.toString());
      }
    }
  }

  private record DaemonMount(long pid, Path log) {}

  /** {@code lazypull mount --daemon}; returns the serving child's pid and log. */
  private static DaemonMount startDaemon(Path cache, ImageReference image, Path mountPoint)
      throws Exception {
    String out =
        run(
            LAUNCHER.toString(),
            "mount",
            "--daemon",
            "--background-delay",
            "0",
            "--cache-dir",
            cache.toString(),
            image.toString(),
            mountPoint.toString());
    var matcher = java.util.regex.Pattern.compile("\\(pid (\\d+), log (\\S+)\\)").matcher(out);
    assertThat(matcher.find()).as(out).isTrue();
    return new DaemonMount(Long.parseLong(matcher.group(1)), Path.of(matcher.group(2)));
  }

  private static void awaitMounted(Path mountPoint, Process process) throws Exception {
    for (int i = 0; i < 1200 && !MountCommand.isLazypullMount(mountPoint); i++) {
      assertThat(process.isAlive()).as("the mount process is running").isTrue();
      Thread.sleep(50);
    }
    assertThat(MountCommand.isLazypullMount(mountPoint)).as("mounted").isTrue();
  }

  /** Reads a file on a thread of its own, ignoring the error that the kill gives it. */
  private static void readInBackground(Path file) {
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try {
                Files.readAllBytes(file);
              } catch (IOException e) {
                // The server was killed under the read: ENOTCONN.
              }
            });
  }

  private static void awaitSpanFiles(Path spans, int count) throws Exception {
    for (int i = 0; i < 1200 && countSpanFiles(spans) < count; i++) {
      Thread.sleep(25);
    }
    assertThat(countSpanFiles(spans)).isGreaterThanOrEqualTo(count);
  }

  private static List<Path> spanFiles(Path spans) throws IOException {
    if (!Files.isDirectory(spans)) {
      return List.of();
    }
    return walk(
        spans,
        walk ->
            walk.filter(Files::isRegularFile)
                .filter(p -> !p.getFileName().toString().endsWith(".tmp"))
                .sorted()
                .toList());
  }

  private static long countTempFiles(Path spans) throws IOException {
    return walk(
        spans, walk -> walk.filter(p -> p.getFileName().toString().endsWith(".tmp")).count());
  }

  /**
   * Walks the cache while a mount may still write it: a temporary file renamed into place between
   * the listing and its visit ends the walk with NoSuchFileException, so the walk starts again.
   */
  private static <T> T walk(Path dir, java.util.function.Function<Stream<Path>, T> query)
      throws IOException {
    for (int attempt = 1; ; attempt++) {
      try (Stream<Path> walk = Files.walk(dir)) {
        return query.apply(walk);
      } catch (java.io.UncheckedIOException e) {
        if (!(e.getCause() instanceof java.nio.file.NoSuchFileException) || attempt == 10) {
          throw e;
        }
      }
    }
  }

  private static int countSpanFiles(Path spans) throws IOException {
    return spanFiles(spans).size();
  }

  /** The span count of the image's one layer, from its zTOC. */
  private int spanCount(ImageReference image) throws Exception {
    try (LazyImage opened =
        LazyImage.open(
            RegistryClient.create(RegistryOptions.defaults()),
            image,
            new LazyImage.Options(
                scratch.resolve("metadata-cache"), 1 << 20, Duration.ofSeconds(30), null, false))) {
      return ((IndexedLayer) opened.layers().getFirst()).ztoc().spanCount();
    }
  }

  private static String run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
    return out;
  }
}
