package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.cli.Main;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestImage;
import dev.lazypull.testing.TestLayers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A two-layer image built in code from busybox-static: busybox and its applet links below, and
 * above a layer that changes /etc/greeting and deletes /etc/old (a whiteout).
 */
final class BusyboxImage {
  static final Path BUSYBOX = Path.of("/bin/busybox");
  static final String TOP_GREETING = "hello from the top layer\n";

  private BusyboxImage() {}

  /** Pushes the image as {@code plain}; with {@code indexed}, also a SOCI-converted copy. */
  static void push(LocalRegistry registry, String plain, String indexed) throws Exception {
    assertThat(BUSYBOX)
        .as("busybox-static is needed (scripts/install-deps.sh installs it)")
        .isExecutable();
    TestImage.push(
        RegistryClient.create(RegistryOptions.defaults()), registry.reference(plain), layers());
    if (!indexed.isEmpty()) {
      // The busybox layer (about 1 MB) gets a zTOC; the tiny top layer is fetched whole.
      assertThat(
              Main.newCommandLine()
                  .execute(
                      "convert",
                      "--span-size",
                      "65536",
                      "--min-layer-size",
                      "100000",
                      registry.reference(plain).toString(),
                      registry.reference(indexed).toString()))
          .isZero();
    }
  }

  private static List<byte[]> layers() throws Exception {
    var bottom = TestLayers.tar().dir("bin").dir("etc");
    bottom.fileEntry("bin/busybox", Files.readAllBytes(BUSYBOX)).mode(0755);
    for (String applet : List.of("sh", "cat", "ls", "echo", "stat")) {
      bottom.symlink("bin/" + applet, "busybox");
    }
    bottom.file("etc/greeting", "hello from the bottom layer\n").file("etc/old", "old\n");
    var top = TestLayers.tar().dir("etc").file("etc/greeting", TOP_GREETING).whiteout("etc/old");
    return List.of(TestLayers.gzip(bottom.build().bytes()), TestLayers.gzip(top.build().bytes()));
  }
}
