package dev.lazypull.cli;

import dev.lazypull.fs.LazyImage;
import dev.lazypull.fs.tree.DirectoryNode;
import dev.lazypull.fs.tree.MergedTree;
import dev.lazypull.fs.tree.Node;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.run.CleanupStack;
import dev.lazypull.run.ContainerRun;
import dev.lazypull.run.PrivateMountNamespace;
import dev.lazypull.run.RunDirectory;
import dev.lazypull.run.RunOptions;
import dev.lazypull.run.Runc;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lazypull run IMAGE [-- CMD ARGS...]}: runs the image with runc on the lazy mount. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run an image as a container with runc, on a lazy mount of its root filesystem.",
      "The exit code is the container's. Mounts live in a private mount namespace, so nothing",
      "stays mounted on the host, whatever ends the run."
    })
public final class RunCommand implements Callable<Integer>, CommandFailure.Action {
  /** Set by a parent lazypull that re-executed itself: when the user's command started. */
  static final String START_MILLIS = "LAZYPULL_RUN_START_MILLIS";

  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Mixin LazyMountOptions lazy;

  @Mixin RegistryAccessOptions registry;

  @Option(
      names = "--entrypoint",
      paramLabel = "CMD",
      description = "Replace the image's entrypoint (and drop its cmd).")
  @Nullable String entrypoint;

  @Option(
      names = {"-e", "--env"},
      paramLabel = "KEY[=VALUE]",
      description = "Set a variable.")
  List<String> env = new ArrayList<>();

  @Option(
      names = {"-w", "--workdir"},
      paramLabel = "DIR",
      description = "Working directory.")
  @Nullable String workdir;

  @Option(
      names = {"-u", "--user"},
      paramLabel = "USER[:GROUP]",
      description = "Run as this user: a name from the image's /etc/passwd, or uid[:gid].")
  @Nullable String user;

  @Option(
      names = {"-v", "--volume"},
      paramLabel = "SRC:DST[:ro]",
      description = "Bind-mount a host path.")
  List<String> volumes = new ArrayList<>();

  @Option(
      names = {"-t", "--tty"},
      description = "Give the process a terminal.")
  boolean tty;

  @Option(
      names = "--net",
      paramLabel = "host|none",
      description = "Network: the host's (default) or none.")
  String net = "host";

  @Option(
      names = "--stats",
      description = "Print the time to the first output, bytes fetched and their share.")
  boolean stats;

  @Option(
      names = "--record-accesses",
      paramLabel = "FILE",
      description = "Write the paths the container read, in order of first read.")
  @Nullable Path recordAccesses;

  @Option(
      names = "--run-dir",
      paramLabel = "DIR",
      hidden = true,
      description = "Scratch space for runs (default: ${DEFAULT-VALUE}).")
  Path runDir = Path.of("/run/lazypull");

  @Parameters(index = "0", paramLabel = "IMAGE", description = "The image to run.")
  String image;

  @Parameters(index = "1..*", paramLabel = "CMD", description = "Command and arguments.")
  List<String> command = new ArrayList<>();

  @Override
  public String action() {
    return "run " + image;
  }

  @Override
  public Integer call() throws Exception {
    if (!net.equals("host") && !net.equals("none")) {
      throw new UsageError.InvalidOption("--net takes host or none, not '" + net + "'");
    }
    checkRecordAccesses();
    java.io.Console console = System.console();
    if (tty && (console == null || !console.isTerminal())) {
      throw new IllegalArgumentException(
          "-t needs a terminal on stdin and stdout; run without -t, or from a terminal");
    }
    if (!PrivateMountNamespace.isInside()) {
      return PrivateMountNamespace.reexec(
          spec.commandLine().getParseResult().originalArgs(),
          Map.of(START_MILLIS, Long.toString(System.currentTimeMillis())));
    }
    PrivateMountNamespace.exitWhenLauncherDies();
    long startMillis = startMillis();
    var options =
        new RunOptions(entrypoint, command, env, workdir, user, volumes, tty, net.equals("none"));
    RegistryClient client = registryClient();
    Set<Long> readOrder = java.util.Collections.synchronizedSet(new LinkedHashSet<>());
    try (var cleanup = new CleanupStack()) {
      RunDirectory dir = RunDirectory.create(runDir.resolve("runs"));
      cleanup.push(dir::close);
      LazyImage lazyImage = LazyImage.open(client, ImageReference.parse(image), lazy.toOptions());
      cleanup.push(lazyImage::close);
      lazy.noticeIfUnindexed(lazyImage, "run", image, spec.commandLine().getErr());
      String missing = missingCommand(lazyImage, options);
      if (missing != null) {
        spec.commandLine().getErr().println("lazypull run " + image + ": " + missing);
        return COMMAND_NOT_FOUND;
      }
      var filesystem = lazy.filesystem(lazyImage, readOrder::add);
      Files.createDirectories(dir.lower());
      FuseMount mount =
          FuseMount.mount(
              dir.lower(), filesystem, MountOptions.defaults("lazypull:" + image, "lazypull"));
      cleanup.push(mount::close);
      if (lazy.backgroundFetch()) {
        lazyImage.startBackgroundFetch(lazy.backgroundPolicy());
      }
      var result =
          new ContainerRun(new Runc(runDir.resolve("runc")))
              .run(
                  dir,
                  cleanup,
                  dir.lower(),
                  lazyImage.config(),
                  lazyImage::readFile,
                  options,
                  stats && !tty);
      if (stats) {
        printStats(result, startMillis, client, lazyImage);
      }
      if (recordAccesses != null) {
        writeAccesses(recordAccesses, lazyImage.tree(), readOrder);
      }
      return result.exitCode();
    }
  }

  // The paths are written after the container exits: a bad path must fail before it starts.
  private void checkRecordAccesses() {
    if (recordAccesses == null) {
      return;
    }
    Path parent = recordAccesses.toAbsolutePath().getParent();
    if (parent == null || !Files.isDirectory(parent) || Files.isDirectory(recordAccesses)) {
      throw new IllegalArgumentException(
          "--record-accesses "
              + recordAccesses
              + ": not a file in an existing directory; create the directory or pick another path");
    }
  }

  /** The shell's exit code for a command that is not there; Docker and Podman use it too. */
  static final int COMMAND_NOT_FOUND = 127;

  /**
   * Finds the container's command in the image's tree, the way runc will look for it (PATH of the
   * container's environment, symlinks followed inside the image), so that a missing one is a clear
   * error instead of runc's. Returns null when it is there.
   */
  static @Nullable String missingCommand(LazyImage image, RunOptions options) {
    var config = dev.lazypull.run.ContainerConfig.fromImageConfig(image.config());
    String program = dev.lazypull.run.RuntimeSpec.processArgs(config, options).getFirst();
    List<String> candidates = new ArrayList<>();
    if (program.contains("/")) {
      String cwd = options.workingDir() != null ? options.workingDir() : config.workingDir();
      candidates.add(program.startsWith("/") ? program : cwd + "/" + program);
    } else {
      var root = new dev.lazypull.run.ProcessUser(0, 0, List.of(), "/root");
      String path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
      for (String entry :
          dev.lazypull.run.RuntimeSpec.processEnv(config, options, root, System.getenv())) {
        if (entry.startsWith("PATH=")) {
          path = entry.substring("PATH=".length());
        }
      }
      for (String dir : path.split(":")) {
        candidates.add((dir.isEmpty() ? "." : dir) + "/" + program);
      }
    }
    for (String candidate : candidates) {
      Node node = image.tree().resolve(candidate.getBytes(StandardCharsets.UTF_8), true);
      if (node instanceof dev.lazypull.fs.tree.FileNode && (node.mode() & 0111) != 0) {
        return null;
      }
    }
    return "the image has no executable '"
        + program
        + "'"
        + (program.contains("/") ? "" : " on its PATH")
        + "; check the command after -- or the image's Entrypoint/Cmd";
  }

  private RegistryClient registryClient() throws java.io.IOException {
    return registry.client();
  }

  private static long startMillis() {
    String inherited = System.getenv(START_MILLIS);
    if (inherited != null) {
      return Long.parseLong(inherited);
    }
    return ProcessHandle.current()
        .info()
        .startInstant()
        .map(i -> i.toEpochMilli())
        .orElse(System.currentTimeMillis());
  }

  private void printStats(
      ContainerRun.Result result, long startMillis, RegistryClient client, LazyImage image) {
    PrintWriter err = spec.commandLine().getErr();
    long fetched = client.bytesReceived();
    long size = image.compressedSize();
    String firstOutput = "n/a (no output or a terminal)";
    if (result.firstOutputNanos() != 0) {
      long nanosSinceOutput = System.nanoTime() - result.firstOutputNanos();
      long outputMillis = System.currentTimeMillis() - nanosSinceOutput / 1_000_000;
      firstOutput = String.format("%.2f s", (outputMillis - startMillis) / 1000.0);
    }
    err.printf(
        "lazypull stats: first output after %s; fetched %,d bytes of %,d (%.1f%%) in %d span"
            + " requests; image %s%n",
        firstOutput,
        fetched,
        size,
        100.0 * fetched / Math.max(1, size),
        image.counters().requests(),
        image.indexed() ? "indexed" : "not indexed");
    err.flush();
  }

  /** Writes the paths of the files read, in order of first read; hardlinks give one path. */
  static void writeAccesses(Path file, MergedTree tree, Set<Long> readOrder) throws IOException {
    Map<Long, String> paths = new HashMap<>();
    Deque<Map.Entry<String, DirectoryNode>> pending = new ArrayDeque<>();
    pending.push(Map.entry("", tree.root()));
    while (!pending.isEmpty()) {
      var dir = pending.pop();
      for (int i = 0; i < dir.getValue().childCount(); i++) {
        Node child = dir.getValue().childAt(i);
        String path =
            dir.getKey()
                + "/"
                + new String(dir.getValue().nameAt(i).rawBytes(), StandardCharsets.UTF_8);
        paths.putIfAbsent(child.inode(), path);
        if (child instanceof DirectoryNode sub) {
          pending.push(Map.entry(path, sub));
        }
      }
    }
    List<String> lines = new ArrayList<>();
    synchronized (readOrder) {
      for (long ino : readOrder) {
        String path = paths.get(ino);
        if (path != null) {
          lines.add(path);
        }
      }
    }
    Files.write(file, lines);
  }
}
