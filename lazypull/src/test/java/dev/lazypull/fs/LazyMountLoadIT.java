package dev.lazypull.fs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.fs.layer.BackgroundFetchPolicy;
import dev.lazypull.fs.layer.IndexedLayer;
import dev.lazypull.fs.layer.LayerReader;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.BigTestImage;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.SpanCacheCheck;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many readers at once on a lazy mount while the background fetcher runs, and two mounts sharing
 * one cache directory: every byte read is compared with the image's content, every wait is bounded,
 * and the read latency is printed (never asserted). CI size about 96 MB; {@code
 * -Dlazypull.long=true} reads a 1 GiB image.
 */
class LazyMountLoadIT {
  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  private static final boolean LONG = Boolean.getBoolean("lazypull.long");
  private static final Path LAUNCHER = Path.of("..", "bin", "lazypull").toAbsolutePath();

  /** How long all readers together may take before the test calls it a deadlock. */
  private static final Duration READERS_BOUND = Duration.ofMinutes(LONG ? 20 : 4);

  private static final java.util.concurrent.atomic.AtomicLong ROUNDS =
      new java.util.concurrent.atomic.AtomicLong();

  @TempDir Path scratch;

  private static BigTestImage image() {
    // CI: 2 layers x 6 files x 8 MiB = 96 MiB. Long: 4 layers x 4 files x 64 MiB = 1 GiB.
    return LONG ? BigTestImage.of(4, 4, 64 << 20, 7) : BigTestImage.of(2, 6, 8 << 20, 7);
  }

  private LazyImage open(ImageReference reference, Path cacheDir) throws Exception {
    return LazyImage.open(
        RegistryClient.create(RegistryOptions.defaults()),
        reference,
        new LazyImage.Options(cacheDir, 8L << 30, Duration.ofSeconds(60), null, false));
  }

  private static FuseMount mount(LazyImage image, Path mountPoint) throws Exception {
    return mount(new ImageFilesystem(image.tree(), image.layers(), ino -> {}), mountPoint);
  }

  private static FuseMount mount(ImageFilesystem filesystem, Path mountPoint) throws Exception {
    Files.createDirectories(mountPoint);
    return FuseMount.mount(
        mountPoint, filesystem, MountOptions.defaults("lazypull-test", "lazypull"));
  }

  @Test
  void read_64RandomReadersWhileTheBackgroundFetcherRunsGetRightBytes() throws Exception {
    BigTestImage content = image();
    ImageReference converted = content.pushAndConvert(registry, "load", 512 << 10);
    try (LazyImage image = open(converted, scratch.resolve("cache"));
        FuseMount mount = mount(image, scratch.resolve("mnt"))) {
      image.startBackgroundFetch(BackgroundFetchPolicy.IMMEDIATE);
      Latencies latencies =
          readRandomly(List.of(scratch.resolve("mnt")), content.files(), 64, LONG ? 400 : 150);
      latencies.print("64 readers, " + (content.totalBytes() >> 20) + " MiB image");
      awaitFullyCached(image);
      readRandomly(List.of(scratch.resolve("mnt")), content.files(), 64, LONG ? 400 : 150)
          .print("64 readers, all spans cached");
      assertThat(image.counters().digestMismatches()).isZero();
      assertThat(image.counters().cacheWriteFailures()).isZero();
    }
  }

  @Test
  void mount_twoMountsOfOneImageShareTheCacheDirectory() throws Exception {
    // One mount in this JVM, one by `lazypull mount --daemon` in another, same --cache-dir, both
    // fetching in the background from an empty cache: both must read every byte right, and the
    // directory must end up holding only whole, verified spans. Both pass fully cached files
    // through: files held open while their last span arrives are opened again, which failed with
    // EIO while the transport let one inode mix passthrough and page-cache opens.
    BigTestImage content =
        LONG ? BigTestImage.of(2, 4, 64 << 20, 8) : BigTestImage.of(1, 6, 8 << 20, 8);
    ImageReference converted = content.pushAndConvert(registry, "shared", 256 << 10);
    Path cacheDir = scratch.resolve("cache");
    Path here = scratch.resolve("mnt-here");
    Path there = scratch.resolve("mnt-there");
    Process daemon = null;
    Path daemonLog = null;
    try (LazyImage image = open(converted, cacheDir);
        FuseMount mount =
            mount(
                new ImageFilesystem(image.tree(), image.layers(), ino -> {})
                    .withPassthrough(cacheDir.resolve("files")),
                here)) {
      image.startBackgroundFetch(BackgroundFetchPolicy.IMMEDIATE);
      daemon =
          new ProcessBuilder(
                  LAUNCHER.toString(),
                  "mount",
                  "--daemon",
                  "--cache-dir",
                  cacheDir.toString(),
                  converted.toString(),
                  there.toString())
              .redirectErrorStream(true)
              .start();
      String out = new String(daemon.getInputStream().readAllBytes());
      assertThat(daemon.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(daemon.exitValue()).as(out).isZero();
      var started = java.util.regex.Pattern.compile("\\(pid (\\d+), log (\\S+)\\)").matcher(out);
      assertThat(started.find()).as(out).isTrue();
      long childPid = Long.parseLong(started.group(1));
      daemonLog = Path.of(started.group(2));

      Latencies latencies = readRandomly(List.of(here, there), content.files(), 32, 100);
      latencies.print("2 mounts sharing a cache, 32 readers each");
      for (Path mountPoint : List.of(here, there)) {
        for (var file : content.files().entrySet()) {
          assertThat(Files.readAllBytes(mountPoint.resolve(file.getKey())))
              .as(mountPoint + "/" + file.getKey())
              .isEqualTo(file.getValue());
        }
      }
      awaitFullyCached(image);
      lazypull("umount", there.toString());
      var child = ProcessHandle.of(childPid);
      if (child.isPresent()) {
        child.get().onExit().get(30, TimeUnit.SECONDS);
      }
    } finally {
      if (daemon != null && Files.exists(there)) {
        new ProcessBuilder("umount", "-l", there.toString()).start().waitFor();
      }
      if (daemonLog != null) {
        Files.deleteIfExists(daemonLog);
      }
    }
    SpanCacheCheck.assertEverySpanWholeAndNoTemporaryFiles(cacheDir.resolve("spans"));
  }

  private static void lazypull(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
  }

  /** Waits (bounded) until the background fetcher has every span of every indexed layer. */
  private static void awaitFullyCached(LazyImage image) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(LONG ? 10 : 2);
    for (LayerReader layer : image.layers()) {
      if (layer instanceof IndexedLayer indexed) {
        while (!indexed.cached(0, indexed.uncompressedSize()) && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertThat(indexed.cached(0, indexed.uncompressedSize()))
            .as("the background fetcher finished layer " + indexed.describe())
            .isTrue();
      }
    }
  }

  /** Read latencies in nanoseconds. */
  record Latencies(long[] nanos) {
    long percentile(double p) {
      long[] sorted = nanos.clone();
      Arrays.sort(sorted);
      return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)];
    }

    void print(String what) {
      System.out.printf(
          "load: %s: %d reads, p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
          what, nanos.length, percentile(50) / 1e6, percentile(99) / 1e6, percentile(100) / 1e6);
    }
  }

  /**
   * {@code readers} threads per mount point, each doing {@code readsEach} reads of 1 byte to 256
   * KiB at random offsets of random files, every one compared with the file's content. Fails on any
   * error or wrong byte, and if the readers are not all done within {@link #READERS_BOUND}.
   */
  static Latencies readRandomly(
      List<Path> mountPoints, Map<String, byte[]> files, int readers, int readsEach)
      throws Exception {
    List<String> names = List.copyOf(files.keySet());
    long round = ROUNDS.incrementAndGet() * 1_000_003L; // other offsets than the last round's
    var latencies = new ConcurrentLinkedQueue<Long>();
    List<Future<?>> done = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(readers * mountPoints.size());
    try {
      for (Path mountPoint : mountPoints) {
        for (int r = 0; r < readers; r++) {
          long seed = round + r * 31L + mountPoint.hashCode();
          done.add(
              pool.submit(
                  () -> {
                    readerLoop(mountPoint, files, names, readsEach, seed, latencies);
                    return null;
                  }));
        }
      }
      pool.shutdown();
      assertThat(pool.awaitTermination(READERS_BOUND.toSeconds(), TimeUnit.SECONDS))
          .as("all readers finished within " + READERS_BOUND + " (else a deadlock)")
          .isTrue();
      for (Future<?> future : done) {
        future.get(); // rethrows a reader's failure
      }
    } finally {
      pool.shutdownNow();
    }
    return new Latencies(latencies.stream().mapToLong(Long::longValue).toArray());
  }

  private static void readerLoop(
      Path mountPoint,
      Map<String, byte[]> files,
      List<String> names,
      int reads,
      long seed,
      ConcurrentLinkedQueue<Long> latencies)
      throws Exception {
    var random = new SplittableRandom(seed);
    for (int i = 0; i < reads; i++) {
      String name = names.get(random.nextInt(names.size()));
      byte[] expected = files.get(name);
      int length = 1 + random.nextInt(256 << 10);
      long offset = random.nextLong(expected.length);
      ByteBuffer into = ByteBuffer.allocate(length);
      long start = System.nanoTime();
      try (FileChannel channel =
          FileChannel.open(mountPoint.resolve(name), StandardOpenOption.READ)) {
        while (into.hasRemaining()) {
          if (channel.read(into, offset + into.position()) < 0) {
            break;
          }
        }
      }
      latencies.add(System.nanoTime() - start);
      int end = (int) Math.min(expected.length, offset + length);
      byte[] want = Arrays.copyOfRange(expected, (int) offset, end);
      byte[] got = Arrays.copyOf(into.array(), into.position());
      if (!Arrays.equals(got, want)) {
        throw new AssertionError(
            mountPoint + "/" + name + " bytes " + offset + "+" + length + " differ from the image");
      }
    }
  }
}
