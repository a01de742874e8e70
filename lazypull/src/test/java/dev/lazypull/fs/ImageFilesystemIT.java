package dev.lazypull.fs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.fs.cache.SpanCache;
import dev.lazypull.fs.layer.FetchCounters;
import dev.lazypull.fs.layer.IndexedLayer;
import dev.lazypull.fs.tree.MergedTree;
import dev.lazypull.fs.tree.MergedTreeBuilder;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.oci.Digest;
import dev.lazypull.testing.TestLayers;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocBuilder;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mounts two in-code layers through the real FUSE transport and checks what stat and read see. */
class ImageFilesystemIT {
  private static final long SPAN = 64 * 1024;
  private static final byte[] BIG = TestLayers.randomBytes(7, 600_000);

  @TempDir static Path scratch;
  static FuseMount mount;
  static Path root;
  static final AtomicInteger requests = new AtomicInteger();

  @BeforeAll
  static void mountImage() throws Exception {
    assertThat(Path.of("/dev/fuse")).as("the kernel's FUSE device").exists();
    var lower = TestLayers.tar();
    lower.dir("etc/");
    lower.file("etc/os-release", "ID=test\n");
    lower.file("big", BIG);
    lower.hardlink("big-link", "big");
    lower.symlink("sh", "/bin/busybox");
    lower.charDevice("null", 1, 3);
    lower.fifo("pipe");
    lower.fileEntry("cap", "x".getBytes()).xattr("user.test", "value");
    lower.dir("gone/");
    lower.file("gone/file", "bye");
    lower.dir("opaque/");
    lower.file("opaque/hidden", "hidden");
    lower.file("replaced", "old");
    lower.fileEntry("secret", "s".getBytes()).mode(0600);
    var upper = TestLayers.tar();
    upper.whiteout("gone");
    upper.opaqueWhiteout("opaque");
    upper.file("opaque/visible", "new");
    upper.file("replaced", "first");
    upper.file("replaced", "second");
    upper.hardlink("etc/release-link", "etc/os-release");

    List<IndexedLayer> layers = new ArrayList<>();
    var builder = new MergedTreeBuilder();
    var cache = SpanCache.open(scratch.resolve("cache"), 1 << 30);
    int index = 0;
    for (var tar : List.of(lower.build(), upper.build())) {
      byte[] gzip = TestLayers.gzip(tar.bytes());
      Ztoc ztoc = new ZtocBuilder(SPAN, "test").build(new ByteArrayInputStream(gzip), "layer");
      layers.add(
          new IndexedLayer(
              Digest.sha256(gzip),
              ztoc,
              (offset, length) -> {
                requests.incrementAndGet();
                return Arrays.copyOfRange(gzip, (int) offset, (int) offset + length);
              },
              cache,
              new FetchCounters(),
              Duration.ofSeconds(10)));
      builder.addLayer(index++, LayerEntries.of(ztoc));
    }
    MergedTree tree = builder.build();
    root = Files.createDirectories(scratch.resolve("mnt"));
    Files.setPosixFilePermissions(
        scratch, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    mount =
        FuseMount.mount(
            root,
            new ImageFilesystem(tree, layers, ino -> {}),
            MountOptions.defaults("lazypull-test", "lazypull").withWorkers(2));
  }

  @AfterAll
  static void unmount() throws Exception {
    if (mount != null) {
      mount.close();
    }
  }

  private static Object attr(String path, String name) throws Exception {
    return Files.getAttribute(root.resolve(path), "unix:" + name, LinkOption.NOFOLLOW_LINKS);
  }

  @Test
  void mount_servesContentAndMetadata() throws Exception {
    assertThat(Files.readString(root.resolve("etc/os-release"))).isEqualTo("ID=test\n");
    assertThat(Files.readAllBytes(root.resolve("big"))).isEqualTo(BIG);
    assertThat(attr("big", "ino")).isEqualTo(attr("big-link", "ino"));
    assertThat(attr("big", "nlink")).isEqualTo(2);
    assertThat(attr("etc/os-release", "nlink")).isEqualTo(2);
    assertThat(Files.readSymbolicLink(root.resolve("sh")).toString()).isEqualTo("/bin/busybox");
    assertThat(attr("sh", "size")).isEqualTo(12L);
    assertThat(attr("null", "rdev")).isEqualTo((1L << 8) | 3);
    assertThat((int) attr("pipe", "mode") & 0170000).isEqualTo(0010000);
  }

  @Test
  void mount_appliesWhiteoutsAndLaterDuplicates() throws Exception {
    assertThat(root.resolve("gone")).doesNotExist();
    try (var names = Files.list(root.resolve("opaque"))) {
      assertThat(names.map(p -> p.getFileName().toString())).containsExactly("visible");
    }
    assertThat(Files.readString(root.resolve("replaced"))).isEqualTo("second");
  }

  @Test
  void mount_servesXattrs() throws Exception {
    var process =
        new ProcessBuilder(
                "getfattr", "--only-values", "-n", "user.test", root.resolve("cap").toString())
            .start();
    assertThat(new String(process.getInputStream().readAllBytes())).isEqualTo("value");
    assertThat(process.waitFor()).isZero();
  }

  @Test
  void mount_checksPermissionsForOtherUsers() throws Exception {
    var asNobody =
        new ProcessBuilder(
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "cat",
                root.resolve("secret").toString(),
                root.resolve("etc/os-release").toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(asNobody.getInputStream().readAllBytes());
    assertThat(asNobody.waitFor()).isNotZero();
    assertThat(out).contains("Permission denied").contains("ID=test");
  }

  @Test
  void mount_readsFetchOnlyTheSpansTouched() throws Exception {
    int before = requests.get();
    Files.readString(root.resolve("replaced"));
    assertThat(requests.get() - before).isLessThanOrEqualTo(1);
  }
}
