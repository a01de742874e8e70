package dev.lazypull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import dev.lazypull.testing.LocalRegistry;
import dev.lazypull.testing.TestImage;
import dev.lazypull.testing.TestLayers;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/lazypull mount --daemon} as a user starts it from a shell. */
class MountDaemonIT {
  private static final Path LAUNCHER = Path.of("..", "bin", "lazypull").toAbsolutePath();

  @RegisterExtension static final LocalRegistry registry = LocalRegistry.create();

  @TempDir Path scratch;

  @Test
  void mount_daemonUnmountedCleanlyDeletesItsLog() throws Exception {
    // Every `mount --daemon` left its log in /tmp for good, however it ended.
    ImageReference image = registry.reference("daemonlog:x");
    TestImage.push(
        RegistryClient.create(RegistryOptions.defaults()),
        image,
        List.of(TestLayers.gzip(TestLayers.tar().file("hello", "world").build().bytes())));
    Path mountPoint = scratch.resolve("mnt");

    String out =
        run(
            "mount",
            "--daemon",
            "--cache-dir",
            scratch.resolve("cache").toString(),
            image.toString(),
            mountPoint.toString());
    var matcher = java.util.regex.Pattern.compile("log (/\\S+\\.log)\\)").matcher(out);
    assertThat(matcher.find()).as(out).isTrue();
    Path log = Path.of(matcher.group(1));
    assertThat(log).exists();
    assertThat(mountPoint.resolve("hello")).hasContent("world");

    run("umount", mountPoint.toString());
    for (int i = 0; i < 300 && (Files.exists(log) || childRunning(mountPoint)); i++) {
      Thread.sleep(100);
    }
    assertThat(childRunning(mountPoint)).isFalse();
    assertThat(log).doesNotExist();
  }

  @Test
  void mount_failedOnANewDirectoryLeavesNoDirectory() throws Exception {
    Path mountPoint = scratch.resolve("new").resolve("mnt");
    for (boolean daemon : new boolean[] {false, true}) {
      List<String> args = new ArrayList<>(List.of("mount"));
      if (daemon) {
        args.add("--daemon");
      }
      args.addAll(List.of(registry.reference("missing:x").toString(), mountPoint.toString()));
      Process process = new ProcessBuilder(commandOf(args)).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes());
      assertThat(process.waitFor()).as(out).isEqualTo(1);
      assertThat(mountPoint).as("daemon " + daemon).doesNotExist();
    }
  }

  private static List<String> commandOf(List<String> args) {
    List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
    command.addAll(args);
    return command;
  }

  private static String run(String... args) throws Exception {
    Process process =
        new ProcessBuilder(commandOf(List.of(args))).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor()).as(out).isZero();
    return out;
  }

  @Test
  void mount_daemonInterruptedBeforeReadyLeavesNoServer() throws Exception {
    // Ctrl-C of `mount --daemon` used to leave its child running on, to mount later anyway.
    // A loopback server that accepts and never answers keeps the child from ever being ready.
    try (var silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      List<Socket> held = new ArrayList<>();
      Thread acceptor =
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    try {
                      while (true) {
                        held.add(silent.accept());
                      }
                    } catch (java.io.IOException e) {
                      // Closed at the end of the test.
                    }
                  });
      Path mountPoint = scratch.resolve("mnt");
      Process parent =
          new ProcessBuilder(
                  LAUNCHER.toString(),
                  "mount",
                  "--daemon",
                  "--cache-dir",
                  scratch.resolve("cache").toString(),
                  "127.0.0.1:" + silent.getLocalPort() + "/never/answers:x",
                  mountPoint.toString())
              .redirectErrorStream(true)
              .redirectOutput(scratch.resolve("out.txt").toFile())
              .start();
      for (int i = 0; i < 600 && !childRunning(mountPoint); i++) {
        Thread.sleep(100);
      }
      assertThat(childRunning(mountPoint)).as("the daemon child started").isTrue();

      parent.destroy();
      assertThat(parent.waitFor(30, TimeUnit.SECONDS)).isTrue();
      for (int i = 0; i < 200 && childRunning(mountPoint); i++) {
        Thread.sleep(100);
      }
      assertThat(childRunning(mountPoint)).as("the daemon child was stopped").isFalse();
      acceptor.interrupt();
    }
  }

  private static boolean childRunning(Path mountPoint) throws Exception {
    // The child's command line is the parent's without --daemon.
    Process ps =
        new ProcessBuilder(
                "pgrep", "-f", "dev.lazypull.cli.Main mount --cache-dir .* " + mountPoint)
            .start();
    ps.getInputStream().readAllBytes();
    return ps.waitFor() == 0;
  }
}
