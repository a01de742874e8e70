package dev.lazypull.cli;

import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * A command line lazypull cannot take: one line {@code lazypull <command>: <problem>; see 'lazypull
 * <command> --help'} on stderr and picocli's exit code for invalid input (2). Picocli would print
 * the whole usage text, in which the problem is easy to miss.
 */
final class UsageError implements IParameterExceptionHandler {

  @Override
  public int handleParseException(ParameterException e, String[] args) {
    String problem = CommandFailure.oneLine(e).strip();
    if (e instanceof UnmatchedArgumentException unmatched) {
      List<String> suggestions = unmatched.getSuggestions();
      if (!suggestions.isEmpty()) {
        problem += "; did you mean " + String.join(" or ", suggestions) + "?";
      }
    }
    return report(e.getCommandLine(), problem);
  }

  /** Prints the one line for {@code problem} and returns the exit code for invalid input. */
  static int report(CommandLine commandLine, String problem) {
    String command = commandLine.getCommandSpec().qualifiedName(" ");
    PrintWriter err = commandLine.getErr();
    err.println(command + ": " + problem + "; see '" + command + " --help'");
    err.flush();
    return commandLine.getCommandSpec().exitCodeOnInvalidInput();
  }

  /**
   * An option value that parsed but cannot be used (negative, too large, a combination that does
   * not work): reported like a usage error, with its exit code.
   */
  static final class InvalidOption extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    InvalidOption(String message) {
      super(message);
    }
  }
}
