package dev.lazypull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountCommandTest {
  @TempDir Path tmp;

  @Test
  void mount_mountPointIsAFileIsOneLineNamingIt() throws Exception {
    Path file = Files.writeString(tmp.resolve("afile"), "x");
    var err = new StringWriter();
    var commandLine = Main.newCommandLine();
    commandLine.setErr(new PrintWriter(err));

    int code = commandLine.execute("mount", "127.0.0.1:1/x:y", file.toString());

    assertThat(code).isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo(
            "lazypull mount 127.0.0.1:1/x:y "
                + file
                + ": "
                + file
                + " is not a directory; give a directory (or a new path) as the mount point"
                + System.lineSeparator());
  }

  @Test
  void insecureSkipVerify_mountAndRun_reachTheImageOptions() {
    for (String command : new String[] {"mount", "run"}) {
      String[] args =
          command.equals("mount")
              ? new String[] {command, "--insecure-skip-verify", "127.0.0.1:1/x:y", "/mnt/x"}
              : new String[] {command, "--insecure-skip-verify", "127.0.0.1:1/x:y"};
      var parsed = Main.newCommandLine().parseArgs(args).subcommand();
      Object user = parsed.commandSpec().userObject();
      LazyMountOptions lazy =
          user instanceof MountCommand mount ? mount.lazy : ((RunCommand) user).lazy;

      assertThat(lazy.toOptions().allowUnverifiedToc()).as(command).isTrue();
    }
    var plain = Main.newCommandLine().parseArgs("mount", "127.0.0.1:1/x:y", "/mnt/x").subcommand();
    assertThat(
            ((MountCommand) plain.commandSpec().userObject()).lazy.toOptions().allowUnverifiedToc())
        .isFalse();
  }

  @Test
  void backgroundRateAndDelay_tooLarge_failNamingTheOptionInsteadOfOverflowing() {
    for (String[] c :
        new String[][] {
          {"--background-rate", "9223372036854775807", "--background-rate must be at most"},
          {"--background-delay", "9223372036854775807", "--background-delay must be at most"},
          {"--cache-size", "9223372036854775807", "--cache-size must be at most"},
        }) {
      var parsed =
          Main.newCommandLine().parseArgs("mount", c[0], c[1], "127.0.0.1:1/x:y", "/mnt/x");
      LazyMountOptions lazy = ((MountCommand) parsed.subcommand().commandSpec().userObject()).lazy;

      org.assertj.core.api.Assertions.assertThatThrownBy(lazy::toOptions)
          .as(c[0])
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith(c[2]);
    }
  }
}
