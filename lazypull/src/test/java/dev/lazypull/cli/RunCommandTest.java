package dev.lazypull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunCommandTest {
  @TempDir Path tmp;

  @Test
  void run_recordAccessesInAMissingDirectoryFailsBeforeTheContainer() {
    // It used to run the container, then fail writing the file and hide the container's exit code.
    Path file = tmp.resolve("nonexistent/dir/f");
    var err = new StringWriter();
    var commandLine = Main.newCommandLine();
    commandLine.setErr(new PrintWriter(err));

    // Port 1 has no registry: a check that came after the registry would say so instead.
    int code =
        commandLine.execute("run", "--record-accesses", file.toString(), "127.0.0.1:1/x:y", "true");

    assertThat(code).isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo(
            "lazypull run 127.0.0.1:1/x:y: --record-accesses "
                + file
                + ": not a file in an existing directory; create the directory or pick another path"
                + System.lineSeparator());
  }
}
