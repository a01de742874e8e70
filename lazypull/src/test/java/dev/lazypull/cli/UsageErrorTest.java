package dev.lazypull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Usage errors are one line naming the command and the problem, with exit code 2. */
class UsageErrorTest {
  @TempDir Path tmp;

  private final StringWriter err = new StringWriter();

  private int execute(String... args) {
    var commandLine = Main.newCommandLine();
    commandLine.setErr(new PrintWriter(err));
    commandLine.setOut(new PrintWriter(new StringWriter()));
    return commandLine.execute(args);
  }

  @Test
  void unknownOption_isOneLineWithASuggestionAndExitCode2() {
    int code = execute("mount", "--pasthrough", "127.0.0.1:1/x:y", tmp.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("lazypull mount: Unknown option: '--pasthrough'; did you mean ")
        .contains("--passthrough")
        .endsWith("; see 'lazypull mount --help'" + System.lineSeparator())
        .hasLineCount(1);
  }

  @Test
  void missingParameter_isOneLineNamingIt() {
    int code = execute("convert", "127.0.0.1:1/x:y");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("lazypull convert: Missing required parameter")
        .endsWith("; see 'lazypull convert --help'" + System.lineSeparator())
        .hasLineCount(1);
  }

  @Test
  void noSubcommand_isOneLine() {
    assertThat(execute()).isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo("lazypull: missing subcommand; see 'lazypull --help'" + System.lineSeparator());
  }

  @Test
  void negativeOptionValue_isAUsageErrorToo() {
    int code = execute("mount", "--background-rate", "-1", "127.0.0.1:1/x:y", tmp.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo(
            "lazypull mount: --background-delay and --background-rate must not be negative;"
                + " see 'lazypull mount --help'"
                + System.lineSeparator());
  }

  @Test
  void badValueType_isOneLine() {
    int code = execute("mount", "--cache-size", "lots", "127.0.0.1:1/x:y", tmp.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString())
        .startsWith("lazypull mount: Invalid value for option '--cache-size'")
        .hasLineCount(1);
  }
}
