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
  static final String SIBLING_GREETING = "hello from the sibling's top layer\n";

  private BusyboxImage() {}

  /** Pushes the image as {@code plain}; with {@code indexed}, also a SOCI-converted copy. */
  static void push(LocalRegistry registry, String plain, String indexed) throws Exception {
    push(registry, plain, indexed, TOP_GREETING);
  }

  /**
   * Pushes a sibling of {@link #push}'s image: the same busybox layer below, another top layer (its
   * /etc/greeting is {@link #SIBLING_GREETING}).
   */
  static void pushSibling(LocalRegistry registry, String plain, String indexed) throws Exception {
    push(registry, plain, indexed, SIBLING_GREETING);
  }

  /**
   * Pushes a one-layer busybox image whose command sleeps: a pod sandbox ("pause") image that
   * containerd's CRI plugin can reach (its layer is downloaded by containerd: it has no index).
   */
  static void pushSandbox(LocalRegistry registry, String name) throws Exception {
    var layer = TestLayers.tar().dir("bin");
    layer.fileEntry("bin/busybox", Files.readAllBytes(BUSYBOX)).mode(0755);
    layer.symlink("bin/sleep", "busybox");
    TestImage.push(
        RegistryClient.create(RegistryOptions.defaults()),
        registry.reference(name),
        List.of(TestLayers.gzip(layer.build().bytes())),
        List.of("/bin/sleep", "1000000"));
  }

  private static void push(LocalRegistry registry, String plain, String indexed, String greeting)
      throws Exception {
    assertThat(BUSYBOX)
        .as("busybox-static is needed (scripts/install-deps.sh installs it)")
        .isExecutable();
    TestImage.push(
        RegistryClient.create(RegistryOptions.defaults()),
        registry.reference(plain),
        layers(greeting));
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

  private static List<byte[]> layers(String greeting) throws Exception {
    var bottom = TestLayers.tar().dir("bin").dir("etc");
    bottom.fileEntry("bin/busybox", Files.readAllBytes(BUSYBOX)).mode(0755);
    for (String applet : List.of("sh", "cat", "ls", "echo", "stat", "sleep")) {
      bottom.symlink("bin/" + applet, "busybox");
    }
    bottom.file("etc/greeting", "hello from the bottom layer\n").file("etc/old", "old\n");
    var top = TestLayers.tar().dir("etc").file("etc/greeting", greeting).whiteout("etc/old");
    return List.of(TestLayers.gzip(bottom.build().bytes()), TestLayers.gzip(top.build().bytes()));
  }
}
