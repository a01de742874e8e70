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
    CommandLine commandLine = e.getCommandLine();
    String command = commandLine.getCommandSpec().qualifiedName(" ");
    StringBuilder line = new StringBuilder(command).append(": ").append(message(e));
    if (e instanceof UnmatchedArgumentException unmatched) {
      List<String> suggestions = unmatched.getSuggestions();
      if (!suggestions.isEmpty()) {
        line.append("; did you mean ").append(String.join(" or ", suggestions)).append('?');
      }
    }
    line.append("; see '").append(command).append(" --help'");
    PrintWriter err = commandLine.getErr();
    err.println(line);
    err.flush();
    return commandLine.getCommandSpec().exitCodeOnInvalidInput();
  }

  private static String message(ParameterException e) {
    String message = e.getMessage();
    if (message == null || message.isBlank()) {
      message = "invalid command line";
    }
    return message.strip().replace('\n', ' ').replace('\r', ' ');
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
