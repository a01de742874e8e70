package dev.lazypull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/lazypull mount --daemon} as a user starts it from a shell. */
class MountDaemonIT {
  private static final Path LAUNCHER = Path.of("..", "bin", "lazypull").toAbsolutePath();

  @TempDir Path scratch;

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
