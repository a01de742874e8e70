package dev.lazypull.run;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Puts {@code lazypull run} in a mount namespace of its own. Every mount it makes (the FUSE mount,
 * the overlay) then lives only there, so even a SIGKILL leaves nothing mounted on the host: the
 * kernel drops the mounts with the namespace's last process.
 *
 * <p>A JVM cannot call {@code unshare(CLONE_NEWNS)} itself, because its threads share one
 * filesystem context; so lazypull starts itself again under util-linux's {@code unshare}.
 */
public final class PrivateMountNamespace {
  static final String MARKER = "LAZYPULL_PRIVATE_MOUNT_NS";
  static final String LAUNCHER_PID = "LAZYPULL_LAUNCHER_PID";

  private PrivateMountNamespace() {}

  /** Whether this process already runs in the namespace that lazypull made for it. */
  public static boolean isInside() {
    return "1".equals(System.getenv(MARKER));
  }

  /**
   * Runs this same command again inside a new private mount namespace and returns its exit code.
   * SIGTERM, SIGINT and SIGHUP to this process are passed on, so the child cleans up.
   */
  public static int reexec(List<String> args, java.util.Map<String, String> extraEnv)
      throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "--"));
    command.add(javaExecutable());
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass()));
    command.addAll(args);
    var builder = new ProcessBuilder(command).inheritIO();
    builder.environment().putAll(extraEnv);
    builder.environment().put(MARKER, "1");
    builder.environment().put(LAUNCHER_PID, Long.toString(ProcessHandle.current().pid()));
    Process child = builder.start();
    Thread forwarder =
        new Thread(
            () -> {
              if (child.isAlive()) {
                child.destroy(); // SIGTERM: the child's own hook unmounts and cleans up
                try {
                  if (!child.waitFor(30, TimeUnit.SECONDS)) {
                    child.destroyForcibly();
                  }
                } catch (InterruptedException e) {
                  child.destroyForcibly();
                }
              }
            },
            "forward-signal");
    Runtime.getRuntime().addShutdownHook(forwarder);
    int code = child.waitFor();
    try {
      Runtime.getRuntime().removeShutdownHook(forwarder);
    } catch (IllegalStateException e) {
      // Already shutting down: the hook runs and finds the child gone.
    }
    return code;
  }

  /**
   * Exits (running the shutdown hooks that stop the container and unmount) once the lazypull that
   * re-executed this one is gone. A SIGKILL of that launcher cannot be passed on, and without this
   * the container would run on with nobody left to stop it. The JVM cannot ask for a parent-death
   * signal, so a daemon thread polls whether this process is still the launcher's child.
   */
  public static void exitWhenLauncherDies() {
    String launcher = System.getenv(LAUNCHER_PID);
    if (launcher == null) {
      return;
    }
    long launcherPid = Long.parseLong(launcher);
    Thread.ofPlatform()
        .daemon()
        .name("launcher-watch")
        .start(
            () -> {
              while (ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L)
                  == launcherPid) {
                try {
                  Thread.sleep(500);
                } catch (InterruptedException e) {
                  return;
                }
              }
              System.exit(137);
            });
  }

  private static String javaExecutable() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  private static String mainClass() {
    String command = System.getProperty("sun.java.command", "dev.lazypull.cli.Main");
    String first = command.split(" ")[0];
    // Started with -jar: the jar's manifest names dev.lazypull.cli.Main.
    return first.endsWith(".jar") && Files.exists(Path.of(first)) ? "dev.lazypull.cli.Main" : first;
  }
}
