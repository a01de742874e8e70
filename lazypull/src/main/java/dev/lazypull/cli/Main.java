package dev.lazypull.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code lazypull} command: parses the command line and hands off to a subcommand. */
@Command(
    name = "lazypull",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = "Starts containers from images before they are downloaded.",
    subcommands = {
      CommandLine.HelpCommand.class,
      ZtocCommand.class,
      ConvertCommand.class,
      CreateCommand.class,
      IndexCommand.class,
      MountCommand.class,
      UmountCommand.class,
      RunCommand.class,
      SnapshotterCommand.class,
      PullCommand.class,
      FdHolderCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
  }

  public static void main(String[] args) {
    System.exit(newCommandLine().execute(args));
  }

  /** Builds the command line with lazypull's error handling; tests call this too. */
  public static CommandLine newCommandLine() {
    return new CommandLine(new Main())
        .setExecutionExceptionHandler(new CommandFailure())
        .setParameterExceptionHandler(new UsageError());
  }
}
