package dev.lazypull.cli;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
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
    if (e instanceof UsageError.InvalidOption) {
      return UsageError.report(commandLine, oneLine(e));
    }
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
    String message =
        e instanceof FileSystemException fileError ? describe(fileError) : e.getMessage();
    if (message == null || message.isBlank() || e instanceof NullPointerException) {
      message = "internal error " + e + " (please report it with the command line)";
    }
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof OutOfMemoryError) { // bin/lazypull caps mount and run at 160 MB
        message += "; the JVM ran out of memory, give it more with LAZYPULL_JAVA_OPTS=-Xmx1g";
        break;
      }
    }
    return message.replace('\n', ' ').replace('\r', ' ');
  }

  // java.nio's file exceptions say only the path (NoSuchFileException: "/x"): say what is wrong.
  private static String describe(FileSystemException e) {
    String problem =
        switch (e) {
          case NoSuchFileException _ -> "no such file or directory";
          case FileAlreadyExistsException _ -> "already exists (and is not a directory?)";
          case AccessDeniedException _ -> "permission denied";
          case NotDirectoryException _ -> "not a directory";
          case DirectoryNotEmptyException _ -> "directory not empty";
          default -> e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
        };
    String file = e.getFile() != null ? e.getFile() : "a file";
    String other = e.getOtherFile() != null ? " -> " + e.getOtherFile() : "";
    return file + other + ": " + problem + "; check the path and its permissions";
  }
}
