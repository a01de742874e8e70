package dev.lazypull.cli;

import dev.lazypull.oci.OciJson;
import java.io.IOException;
import java.io.PrintWriter;

/** Pretty JSON on the command's stdout. */
final class Json {
  private Json() {}

  static void print(PrintWriter out, Object value) throws IOException {
    out.println(OciJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value));
    out.flush();
  }
}
