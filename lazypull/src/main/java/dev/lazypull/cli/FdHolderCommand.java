package dev.lazypull.cli;

import dev.lazypull.snapshotter.FdHolder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lazypull fd-holder}: the process the snapshotter starts to keep its FUSE connections
 * across restarts (see {@link FdHolder}). Hidden: nobody but the snapshotter starts it.
 */
@Command(
    name = "fd-holder",
    hidden = true,
    mixinStandardHelpOptions = true,
    description = "Keep the snapshotter's FUSE connections across its restarts (internal).")
public final class FdHolderCommand implements Callable<Integer>, CommandFailure.Action {
  /** The holder's socket under the snapshotter root. */
  static final String SOCKET_NAME = "fd-holder.sock";

  /** How long the holder keeps connections while no daemon is connected. */
  static final Duration DEFAULT_GRACE = Duration.ofMinutes(2);

  @Option(names = "--socket", required = true, description = "Unix socket to serve on.")
  Path socket;

  @Option(
      names = "--grace-seconds",
      description =
          "End the kept connections and exit once no daemon has been connected this long"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "120")
  long graceSeconds;

  @Override
  public String action() {
    return "fd-holder on " + socket;
  }

  @Override
  public Integer call() throws Exception {
    FdHolder.serve(socket.toAbsolutePath(), Duration.ofSeconds(graceSeconds));
    return 0;
  }

  /**
   * The command line that starts a holder on {@code socket} with this JVM and class path: small
   * heap, serial collector, as it only keeps descriptors.
   */
  static List<String> command(Path socket) {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    return List.of(
        java,
        "-XX:+UseSerialGC",
        "-Xmx32m",
        "-XX:TieredStopAtLevel=1",
        "--enable-native-access=ALL-UNNAMED",
        "-cp",
        System.getProperty("java.class.path"),
        Main.class.getName(),
        "fd-holder",
        "--socket",
        socket.toString(),
        "--grace-seconds",
        Long.toString(DEFAULT_GRACE.toSeconds()));
  }
}
