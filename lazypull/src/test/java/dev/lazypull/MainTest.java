package dev.lazypull;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class MainTest {
  @Test
  void help_listsCommandName() {
    var out = new StringWriter();
    var cl = Main.newCommandLine();
    cl.setOut(new PrintWriter(out));
    int code = cl.execute("--help");
    assertThat(code).isZero();
    assertThat(out.toString()).contains("lazypull");
  }
}
