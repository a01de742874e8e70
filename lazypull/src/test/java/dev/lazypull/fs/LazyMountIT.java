package dev.lazypull.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.cli.Main;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.CountingProxy;
import dev.lazypull.testing.DebianImages;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestImage;
import dev.lazypull.testing.TestLayers;
import dev.lazypull.testing.TreeSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lazy mounts of images in the real docker-registry, compared path by path with an independent pull
 * and unpack of the same image by skopeo and umoci.
 */
class LazyMountIT {
  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  @TempDir Path scratch;

  private static final byte[] BIG = TestLayers.randomBytes(11, 3_000_000);

  /** Two layers with every entry type and overlay case, and a 10,000-entry directory. */
  private static List<byte[]> everyCaseLayers() {
    var lower = TestLayers.tar();
    lower.dir("etc/");
    lower.file("etc/os-release", "ID=test\n");
    lower.file("big", BIG);
    lower.hardlink("big-link", "big");
    lower.symlink("sh", "/bin/busybox");
    lower.symlink("rel", "../etc/os-release");
    lower.charDevice("null", 1, 3);
    lower.blockDevice("loop", 7, 300);
    lower.fifo("pipe");
    lower.fileEntry("cap", "x".getBytes()).xattr("user.test", "value");
    lower.fileEntry("modes", "m".getBytes()).mode(04755).owner(1000, 1001, "u", "g");
    lower.dir("gone/");
    lower.file("gone/file", "bye");
    lower.dir("opaque/");
    lower.file("opaque/hidden", "hidden");
    lower.file("replaced", "old");
    lower.file("empty", new byte[0]);
    lower.dir("many/");
    for (int i = 0; i < 10_000; i++) {
      lower.file("many/f" + i, "");
    }
    var upper = TestLayers.tar();
    upper.whiteout("gone");
    upper.opaqueWhiteout("opaque");
    upper.file("opaque/visible", "new");
    upper.file("replaced", "first");
    upper.file("replaced", "second");
    upper.hardlink("etc/release-link", "etc/os-release");
    upper.file("../../escape", "stays inside");
    upper.file("/abs", "absolute");
    upper.file("./dot", "dot");
    return List.of(TestLayers.gzip(lower.build().bytes()), TestLayers.gzip(upper.build().bytes()));
  }

  private static byte[] bigLayer() {
    return TestLayers.gzip(TestLayers.tar().file("big", BIG).build().bytes());
  }

  /**
   * Pushes the layers as {@code REPOSITORY:src} and converts them with 64 KiB spans, indexing every
   * layer however small, to {@code REPOSITORY:soci}, which it returns.
   */
  private static ImageReference pushAndConvert(String repository, List<byte[]> gzipLayers)
      throws Exception {
    ImageReference source = registry.reference(repository + ":src");
    ImageReference converted = registry.reference(repository + ":soci");
    TestImage.push(RegistryClient.create(RegistryOptions.defaults()), source, gzipLayers);
    assertThat(
            lazypull(
                "convert",
                "--span-size",
                "65536",
                "--min-layer-size",
                "0",
                source.toString(),
                converted.toString()))
        .isZero();
    return converted;
  }

  private static int lazypull(String... args) {
    return Main.newCommandLine().execute(args);
  }

  private static void run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
  }

  /** The independent unpack: skopeo copies the image, umoci unpacks it. */
  private Path umociUnpack(ImageReference image) throws Exception {
    Path layout = scratch.resolve("layout");
    run("skopeo", "copy", "--src-tls-verify=false", "docker://" + image, "oci:" + layout + ":x");
    Path bundle = scratch.resolve("bundle");
    run("umoci", "unpack", "--image", layout + ":x", bundle.toString());
    return bundle.resolve("rootfs");
  }

  private LazyImage open(RegistryClient client, ImageReference image, long cacheBytes)
      throws Exception {
    return LazyImage.open(
        client,
        image,
        new LazyImage.Options(
            scratch.resolve("cache"), cacheBytes, Duration.ofSeconds(30), null, false));
  }

  private void assertSameTree(Path lazy, Path unpacked) throws Exception {
    TreeSnapshot expected = TreeSnapshot.of(unpacked);
    TreeSnapshot actual = TreeSnapshot.of(lazy);
    expected.entries().remove("/");
    actual.entries().remove("/");
    assertThat(actual.entries()).containsExactlyEntriesOf(expected.entries());
    assertThat(actual.hardlinkGroups()).isEqualTo(expected.hardlinkGroups());
  }

  @Test
  void mount_everyEntryTypeMatchesUmociUnpack() throws Exception {
    ImageReference converted = pushAndConvert("cases", everyCaseLayers());
    Path unpacked = umociUnpack(converted);

    try (var proxy = CountingProxy.to(registry.port());
        LazyImage image =
            open(
                RegistryClient.create(RegistryOptions.defaults()),
                proxy.reference("cases:soci"),
                1 << 30)) {
      assertThat(image.indexed()).isTrue();
      Path mountPoint = Files.createDirectories(scratch.resolve("mnt"));
      try (FuseMount mount =
          FuseMount.mount(
              mountPoint,
              new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"))) {
        proxy.reset();
        assertThat(Files.readString(mountPoint.resolve("etc/os-release"))).isEqualTo("ID=test\n");
        assertThat(proxy.bytesFromServer())
            .as("one small file costs about one 64 KiB span, not the 3 MB layer")
            .isLessThan(200_000);

        assertSameTree(mountPoint, unpacked);

        run("cp", mountPoint.resolve("big").toString(), scratch.resolve("copy").toString());
        run(
            "cp",
            "--sparse=always",
            mountPoint.resolve("big").toString(),
            scratch.resolve("sparse-copy").toString());
        assertThat(Files.readAllBytes(scratch.resolve("sparse-copy"))).isEqualTo(BIG);
        try (var names = Files.list(mountPoint.resolve("many"))) {
          assertThat(names.count()).isEqualTo(10_000);
        }
        run("du", "-s", mountPoint.toString());
        run("df", mountPoint.toString());
      }
    }
  }

  @Test
  void mount_cacheLimitIsRespectedAndReadsStayRight() throws Exception {
    pushAndConvert("limit", List.of(bigLayer()));
    long limit = 256 * 1024;
    try (LazyImage image =
        open(
            RegistryClient.create(RegistryOptions.defaults()),
            registry.reference("limit:soci"),
            limit)) {
      Path mountPoint = Files.createDirectories(scratch.resolve("mnt"));
      try (FuseMount mount =
          FuseMount.mount(
              mountPoint,
              new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"))) {
        assertThat(Files.readAllBytes(mountPoint.resolve("big"))).isEqualTo(BIG);
      }
      long cached;
      try (var files = Files.walk(scratch.resolve("cache/spans"))) {
        cached = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
      }
      assertThat(cached).isLessThanOrEqualTo(limit);
    }
  }

  @Test
  void read_registryGoneFailsWithEioWithinTheTimeout() throws Exception {
    pushAndConvert("gone", List.of(bigLayer()));
    var proxy = CountingProxy.to(registry.port());
    try (LazyImage image =
        LazyImage.open(
            RegistryClient.create(RegistryOptions.defaults()),
            proxy.reference("gone:soci"),
            new LazyImage.Options(
                scratch.resolve("cache"), 1L << 30, Duration.ofSeconds(5), null, false))) {
      Path mountPoint = Files.createDirectories(scratch.resolve("mnt"));
      try (FuseMount mount =
          FuseMount.mount(
              mountPoint,
              new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"))) {
        proxy.close();
        long start = System.nanoTime();
        assertThatThrownBy(() -> Files.readAllBytes(mountPoint.resolve("big")))
            .isInstanceOf(java.io.IOException.class)
            .hasMessageContaining("Input/output error");
        assertThat(Duration.ofNanos(System.nanoTime() - start))
            .as("a read must not hang when the registry is gone")
            .isLessThan(Duration.ofSeconds(120));
      }
    }
  }

  @Test
  void open_fullyCachedLargeFileIsReadByTheKernelThroughPassthrough() throws Exception {
    withFullyCachedBigFile(
        "pass",
        (mount, big) -> {
          run("dd", "if=" + big, "iflag=nocache", "count=0", "status=none");
          long readsBefore = mount.requestCounts().getOrDefault("READ", 0L);
          assertThat(Files.readAllBytes(big)).as("second read, by the kernel").isEqualTo(BIG);
          assertThat(mount.requestCounts().getOrDefault("READ", 0L)).isEqualTo(readsBefore);
        });
  }

  @Test
  void open_manyOpensOfAPassedThroughFileHoldNoDescriptorOfTheServer() throws Exception {
    // Each open used to keep a descriptor of the local copy until its release: a reader holding
    // many opens of one file ran the server out of descriptors, and every read then failed.
    withFullyCachedBigFile(
        "opens",
        (mount, big) -> {
          int opens = 300;
          var held = new java.util.ArrayList<java.nio.channels.FileChannel>();
          try {
            long before = openDescriptors();
            for (int i = 0; i < opens; i++) {
              held.add(java.nio.channels.FileChannel.open(big));
            }
            assertThat(openDescriptors() - before)
                .as("descriptors added: the test's own %d channels, none of the server's", opens)
                .isLessThan(opens + opens / 2);
            var last = java.nio.ByteBuffer.allocate(4096);
            held.getLast().read(last, BIG.length - 4096);
            assertThat(last.array())
                .isEqualTo(java.util.Arrays.copyOfRange(BIG, BIG.length - 4096, BIG.length));
          } finally {
            for (var channel : held) {
              channel.close();
            }
          }
        });
  }

  @Test
  void open_directReadOfAFullyCachedFileTakesAnyOffsetAndLength() throws Exception {
    // Passed through, an O_DIRECT read would follow the local disk's alignment rules (EINVAL).
    withFullyCachedBigFile(
        "direct",
        (mount, big) -> {
          long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
          while (mount.requestCounts().getOrDefault("RELEASE", 0L) < 1
              && System.nanoTime() < deadline) {
            Thread.sleep(10); // the kernel sends RELEASE after close returns
          }
          Path copy = scratch.resolve("direct.out");
          run("dd", "if=" + big, "of=" + copy, "iflag=direct", "bs=1000", "skip=3", "count=2");
          assertThat(Files.readAllBytes(copy))
              .isEqualTo(java.util.Arrays.copyOfRange(BIG, 3000, 5000));
        });
  }

  private interface MountedBody {
    void run(FuseMount mount, Path big) throws Exception;
  }

  /**
   * Runs {@code body} on a mount, with passthrough on, of an image holding {@code /big}, once a
   * first read through lazypull has cached all of its spans.
   */
  private void withFullyCachedBigFile(String repository, MountedBody body) throws Exception {
    pushAndConvert(repository, List.of(bigLayer()));
    try (LazyImage image =
        open(
            RegistryClient.create(RegistryOptions.defaults()),
            registry.reference(repository + ":soci"),
            1L << 30)) {
      Path mountPoint = Files.createDirectories(scratch.resolve("mnt-" + repository));
      var filesystem =
          new ImageFilesystem(image.tree(), image.layers(), ino -> {})
              .withPassthrough(scratch.resolve("files-" + repository));
      try (FuseMount mount =
          FuseMount.mount(
              mountPoint, filesystem, MountOptions.defaults("lazypull-test", "lazypull"))) {
        assertThat(mount.passthroughEnabled()).as("this kernel offers passthrough").isTrue();
        Path big = mountPoint.resolve("big");
        assertThat(Files.readAllBytes(big)).as("first read, through lazypull").isEqualTo(BIG);
        body.run(mount, big);
      }
    }
  }

  private static long openDescriptors() throws java.io.IOException {
    try (var entries = Files.list(Path.of("/proc/self/fd"))) {
      return entries.count();
    }
  }

  @Test
  void mount_debianImageMatchesUmociUnpack() throws Exception {
    Path layout = DebianImages.minbase();
    ImageReference source = registry.reference("debian:minbase");
    DebianImages.pushToRegistry(layout, DebianImages.TAG, source.toString());
    assertThat(
            lazypull(
                "convert",
                "--min-layer-size",
                "1000000",
                source.toString(),
                registry.reference("debian:soci").toString()))
        .isZero();
    Path unpacked = umociUnpack(registry.reference("debian:soci"));
    try (LazyImage image =
        open(
            RegistryClient.create(RegistryOptions.defaults()),
            registry.reference("debian:soci"),
            1L << 30)) {
      Path mountPoint = Files.createDirectories(scratch.resolve("mnt"));
      try (FuseMount mount =
          FuseMount.mount(
              mountPoint,
              new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"))) {
        assertSameTree(mountPoint, unpacked);
      }
    }
  }

  @Test
  void mount_daemonOfAnUnknownImageOnAMountedDirIsRefused() throws Exception {
    // `mount --daemon` took the existing mount for its child's and said "mounted" for any image.
    ImageReference source = registry.reference("twice:src");
    TestImage.push(
        RegistryClient.create(RegistryOptions.defaults()),
        source,
        List.of(TestLayers.gzip(TestLayers.tar().file("f", "x").build().bytes())));
    try (LazyImage image =
        open(RegistryClient.create(RegistryOptions.defaults()), source, 1 << 20)) {
      Path mountPoint = Files.createDirectories(scratch.resolve("mnt"));
      try (FuseMount mount =
          FuseMount.mount(
              mountPoint,
              new ImageFilesystem(image.tree(), image.layers(), ino -> {}),
              MountOptions.defaults("lazypull-test", "lazypull"))) {
        var err = new java.io.StringWriter();
        var commandLine = Main.newCommandLine();
        commandLine.setErr(new java.io.PrintWriter(err));
        int code =
            commandLine.execute(
                "mount",
                "--daemon",
                registry.reference("nope:x").toString(),
                mountPoint.toString());
        assertThat(code).isEqualTo(1);
        assertThat(err.toString().strip())
            .contains("already holds a lazypull mount")
            .doesNotContain("\n");
        long mounts =
            Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(l -> l.contains(" " + mountPoint + " "))
                .count();
        assertThat(mounts).isEqualTo(1);
      }
    }
  }
}
