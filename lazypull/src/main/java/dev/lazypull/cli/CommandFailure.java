package dev.lazypull.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * The one place where a failed command becomes what the user sees: a single line {@code lazypull
 * <action>: <message>} on stderr and exit code 1 (picocli gives usage errors 2). The exceptions'
 * messages already name the action, the image, layer or file, and what to try.
 */
final class CommandFailure implements IExecutionExceptionHandler {

  static final int EXIT_FAILURE = 1;

  /** A command that can say more precisely what it was doing than its name. */
  interface Action {
    String action();
  }

  @Override
  public int handleExecutionException(Exception e, CommandLine commandLine, ParseResult parsed) {
    String action =
        commandLine.getCommand() instanceof Action a
            ? a.action()
            : commandLine.getCommandSpec().qualifiedName(" ").replaceFirst("^lazypull ", "");
    PrintWriter err = commandLine.getErr();
    err.println("lazypull " + action + ": " + oneLine(e));
    err.flush();
    return EXIT_FAILURE;
  }

  static String oneLine(Throwable e) {
    String message = e.getMessage();
    if (message == null || message.isBlank() || e instanceof NullPointerException) {
      message = "internal error " + e + " (please report it with the command line)";
    }
    return message.replace('\n', ' ').replace('\r', ' ');
  }
}
