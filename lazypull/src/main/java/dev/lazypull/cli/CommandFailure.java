package dev.lazypull.cli;

import java.io.PrintWriter;

/** Prints a failure as the single line the user sees, and gives the exit code. */
final class CommandFailure {
  private CommandFailure() {}

  static int report(PrintWriter err, String command, Exception e) {
    String message = e.getMessage() != null ? e.getMessage() : e.toString();
    err.println("lazypull " + command + ": " + message.replace('\n', ' '));
    err.flush();
    return 1;
  }
}
