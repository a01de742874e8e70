package dev.lazypull.cli;

import dev.lazypull.fs.LazyImage;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.registry.ImageReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lazypull mount IMAGE DIR}: the image's root filesystem, read-only, fetched lazily. */
@Command(
    name = "mount",
    mixinStandardHelpOptions = true,
    description = {
      "Mount an image's merged root filesystem read-only, fetching file data only when read.",
      "Runs in the foreground until unmounted (lazypull umount DIR) or interrupted."
    })
public final class MountCommand implements Callable<Integer>, CommandFailure.Action {
  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Mixin RegistryOptionsMixin registry;
  @Mixin LazyMountOptions lazy;

  @Parameters(index = "0", paramLabel = "IMAGE", description = "The image to mount.")
  String image;

  @Parameters(index = "1", paramLabel = "DIR", description = "The mount point (created if absent).")
  Path mountPoint;

  @Option(names = "--daemon", description = "Return once mounted; keep serving in the background.")
  boolean daemon;

  /** Names the daemon's log file for the daemon itself, which deletes it on a clean unmount. */
  private static final String DAEMON_LOG_VARIABLE = "LAZYPULL_MOUNT_LOG";

  @Override
  public String action() {
    return "mount " + image + " " + mountPoint;
  }

  @Override
  public Integer call() throws Exception {
    checkMountPoint();
    if (daemon) {
      return startDaemon();
    }
    var client = registry.client();
    try (LazyImage lazyImage =
        LazyImage.open(client, ImageReference.parse(image), lazy.toOptions())) {
      lazy.noticeIfUnindexed(lazyImage, "mount", image, spec.commandLine().getErr());
      var filesystem = lazy.filesystem(lazyImage, ino -> {});
      boolean created = createMountPoint();
      FuseMount mount;
      try {
        mount =
            FuseMount.mount(
                mountPoint, filesystem, MountOptions.defaults("lazypull:" + image, "lazypull"));
      } catch (IOException | RuntimeException e) {
        removeIfCreated(created);
        throw e;
      }
      Thread unmounter = new Thread(() -> closeQuietly(mount), "unmount-on-signal");
      Runtime.getRuntime().addShutdownHook(unmounter);
      if (lazy.backgroundFetch()) {
        lazyImage.startBackgroundFetch(lazy.backgroundPolicy());
      }
      spec.commandLine().getOut().println("mounted " + image + " at " + mountPoint);
      spec.commandLine().getOut().flush();
      mount.awaitEnd();
      try {
        Runtime.getRuntime().removeShutdownHook(unmounter);
      } catch (IllegalStateException e) {
        // Shutting down already: the hook unmounts.
      }
      closeQuietly(mount);
    }
    deleteDaemonLog();
    return 0;
  }

  /** Creates the mount point if it is missing; true if this command made it. */
  private boolean createMountPoint() throws IOException {
    if (Files.isDirectory(mountPoint)) {
      return false;
    }
    Files.createDirectories(mountPoint);
    return true;
  }

  /** A failed mount leaves no directory behind that the user did not have before. */
  private void removeIfCreated(boolean created) {
    if (created) {
      try {
        Files.deleteIfExists(mountPoint);
      } catch (IOException e) {
        // Not empty any more, or gone: either way not ours to remove.
      }
    }
  }

  /**
   * A daemon that ends by an unmount ended as asked: its log, which the starting command named in
   * case the mount failed later, would only pile up in /tmp.
   */
  private static void deleteDaemonLog() {
    String log = System.getenv(DAEMON_LOG_VARIABLE);
    if (log != null && Path.of(log).getFileName().toString().startsWith("lazypull-mount-")) {
      try {
        Files.deleteIfExists(Path.of(log));
      } catch (IOException e) {
        // Left in place: harmless.
      }
    }
  }

  // A file cannot be a mount point. A second mount would stack on the first, and --daemon would
  // take the first one for its own. A mount whose server was killed (kill -9, OOM) stays in the
  // mount table, answering ENOTCONN, until detached: that one is detached, so that a restart on
  // the same directory works without a manual umount.
  private void checkMountPoint() throws IOException {
    FuseMount.detachDeadMount(mountPoint.toAbsolutePath().normalize());
    if (Files.exists(mountPoint) && !Files.isDirectory(mountPoint)) {
      throw new IOException(
          mountPoint + " is not a directory; give a directory (or a new path) as the mount point");
    }
    if (isLazypullMount(mountPoint.toAbsolutePath().normalize())) {
      throw new IOException(
          mountPoint
              + " already holds a lazypull mount; run lazypull umount "
              + mountPoint
              + " first or pick another directory");
    }
  }

  private static void closeQuietly(FuseMount mount) {
    try {
      mount.close();
    } catch (IOException e) {
      // Already unmounted from outside (lazypull umount): nothing left to do.
    }
  }

  /** Starts this command again without --daemon in its own session and waits for the mount. */
  private int startDaemon() throws IOException, InterruptedException {
    boolean created = createMountPoint();
    Path log = Files.createTempFile("lazypull-mount-", ".log");
    List<String> command = new ArrayList<>(List.of("setsid", javaCommand()));
    command.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    for (String arg : spec.commandLine().getParseResult().originalArgs()) {
      if (!arg.equals("--daemon")) {
        command.add(arg);
      }
    }
    var builder = new ProcessBuilder(command);
    builder.environment().put(DAEMON_LOG_VARIABLE, log.toString());
    Process child =
        builder
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectOutput(log.toFile())
            .redirectErrorStream(true)
            .start();
    // Ctrl-C or SIGTERM before the mount is ready: the user gave up, so the child must not mount
    // afterwards (its own hook undoes a mount it has just made).
    Thread abandon = new Thread(() -> stopQuietly(child, log), "abandon-mount");
    Runtime.getRuntime().addShutdownHook(abandon);
    Path absolute = mountPoint.toAbsolutePath().normalize();
    for (int i = 0; i < 6000; i++) {
      if (isLazypullMount(absolute)) {
        Runtime.getRuntime().removeShutdownHook(abandon);
        spec.commandLine()
            .getOut()
            .println(
                "mounted "
                    + image
                    + " at "
                    + mountPoint
                    + " (pid "
                    + child.pid()
                    + ", log "
                    + log
                    + ")");
        return 0;
      }
      if (child.waitFor(100, TimeUnit.MILLISECONDS)) {
        String output = Files.readString(log).strip();
        Files.deleteIfExists(log);
        removeIfCreated(created);
        // The child printed "lazypull <action>: <message>"; the handler adds that prefix again.
        String last = output.lines().reduce((a, b) -> b).orElse(output);
        String prefix = "lazypull " + action() + ": ";
        throw new IOException(
            output.isEmpty()
                ? "the mount process exited with " + child.exitValue()
                : last.startsWith(prefix) ? last.substring(prefix.length()) : last);
      }
    }
    child.destroy();
    throw new IOException("the mount was not ready after 10 minutes; see " + log);
  }

  private static void stopQuietly(Process child, Path log) {
    child.destroy();
    try {
      if (!child.waitFor(10, TimeUnit.SECONDS)) {
        child.destroyForcibly();
      }
      Files.deleteIfExists(log);
    } catch (InterruptedException | IOException e) {
      child.destroyForcibly();
    }
  }

  static boolean isLazypullMount(Path absoluteMountPoint) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] fields = line.split(" ");
      int dash = List.of(fields).indexOf("-");
      if (fields.length > 4
          && dash > 0
          && fields[4].equals(absoluteMountPoint.toString())
          && fields[dash + 1].equals("fuse.lazypull")) {
        return true;
      }
    }
    return false;
  }

  private static String javaCommand() {
    return ProcessHandle.current().info().command().orElse("java");
  }
}
