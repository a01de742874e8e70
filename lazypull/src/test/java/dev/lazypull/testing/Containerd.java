package dev.lazypull.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debian's real containerd (1.6), started with its own config, root, state, {@code opt} dir and
 * socket inside a temporary directory, with lazypull's snapshotter as proxy plugin {@code lazypull}
 * at a given socket. The CRI plugin is off unless started by {@link #startWithCri}. Stopped by its
 * PID on close; mounts it left under its directory are detached and reported.
 */
public final class Containerd implements AutoCloseable {
  public static final Path BINARY = Path.of("/usr/bin/containerd");
  public static final Path CTR = Path.of("/usr/bin/ctr");
  public static final String NAMESPACE = "test";
  private static final Logger log = LoggerFactory.getLogger(Containerd.class);
  private static final long START_TIMEOUT_MILLIS = 30_000;
  private static final long CTR_TIMEOUT_SECONDS = 180;

  private static final String NO_CRI = "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]";

  private final Path dir;
  private final Process process;

  /**
   * The CRI plugin's table: pods run with cgroupfs (no systemd here) and {@code sandboxImage} as
   * their pause container; the CNI dirs are empty, so pods must use the host network. The sandbox's
   * oom_score_adj is capped at containerd's own: this machine lacks CAP_SYS_RESOURCE, so the CRI
   * plugin's default of -998 makes runc fail ("can't get final child's PID from pipe").
   */
  private static String cri(Path dir, String registryHost, String sandboxImage) {
    return """
        [plugins."io.containerd.grpc.v1.cri"]
          sandbox_image = "%3$s"
          restrict_oom_score_adj = true
          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
            runtime_type = "io.containerd.runc.v2"
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
              SystemdCgroup = false
          [plugins."io.containerd.grpc.v1.cri".containerd]
            snapshotter = "lazypull"
            disable_snapshot_annotations = false
          [plugins."io.containerd.grpc.v1.cri".registry]
            config_path = "%1$s/certs.d"
          [plugins."io.containerd.grpc.v1.cri".cni]
            bin_dir = "%1$s/cni/bin"
            conf_dir = "%1$s/cni/conf"
        """
        .formatted(dir, registryHost, sandboxImage);
  }

  private Containerd(Path dir, Process process) {
    this.dir = dir;
    this.process = process;
  }

  /** Starts containerd in {@code dir} with the proxy snapshotter at {@code snapshotterSocket}. */
  public static Containerd start(Path dir, Path snapshotterSocket) throws IOException {
    return start(dir, snapshotterSocket, null);
  }

  /**
   * Starts containerd with its CRI plugin on, pulling with the {@code lazypull} snapshotter and
   * snapshot annotations on (the remote-snapshot labels), and plain HTTP to {@code registryHost}
   * through a hosts.toml in {@code dir}. Pods use {@code sandboxImage} (a reference in that
   * registry; containerd's default pause image cannot be reached here).
   */
  public static Containerd startWithCri(
      Path dir, Path snapshotterSocket, String registryHost, String sandboxImage)
      throws IOException {
    Path hosts = dir.resolve("certs.d").resolve(registryHost);
    Files.createDirectories(hosts);
    Files.writeString(
        hosts.resolve("hosts.toml"),
        """
        server = "http://%1$s"

        [host."http://%1$s"]
          capabilities = ["pull", "resolve"]
        """
            .formatted(registryHost));
    return start(dir, snapshotterSocket, cri(dir, registryHost, sandboxImage));
  }

  private static Containerd start(Path dir, Path snapshotterSocket, @Nullable String criTable)
      throws IOException {
    if (!Files.isExecutable(BINARY) || !Files.isExecutable(CTR)) {
      throw new IllegalStateException(
          "containerd is not installed; run scripts/install-deps.sh (apt-get install containerd)");
    }
    Files.createDirectories(dir);
    Path config = dir.resolve("config.toml");
    Files.writeString(
        config,
        """
        version = 2
        root = "%1$s/root"
        state = "%1$s/state"
        %3$s

        [grpc]
          address = "%1$s/containerd.sock"

        [ttrpc]
          address = "%1$s/containerd.sock.ttrpc"

        [plugins."io.containerd.internal.v1.opt"]
          path = "%1$s/opt"

        [proxy_plugins.lazypull]
          type = "snapshot"
          address = "%2$s"
        """
            .formatted(dir, snapshotterSocket, criTable == null ? NO_CRI : criTable));
    Process process =
        new ProcessBuilder(BINARY.toString(), "--config", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("containerd.log").toFile())
            .start();
    var containerd = new Containerd(dir, process);
    try {
      containerd.awaitReady();
    } catch (IOException | RuntimeException e) {
      containerd.close();
      throw e;
    }
    return containerd;
  }

  public Path socket() {
    return dir.resolve("containerd.sock");
  }

  public long pid() {
    return process.pid();
  }

  /** Runs {@code ctr --address SOCKET -n test ARGS}; fails with ctr's output unless it exits 0. */
  public String ctr(String... args) throws IOException, InterruptedException {
    Result result = tryCtr(args);
    if (result.exitCode() != 0) {
      throw new IOException(
          "ctr "
              + String.join(" ", args)
              + " exited "
              + result.exitCode()
              + ": "
              + result.output()
              + "\ncontainerd log tail: "
              + logTail());
    }
    return result.output();
  }

  /** ctr's exit code and its merged stdout and stderr. */
  public record Result(int exitCode, String output) {}

  public Result tryCtr(String... args) throws IOException, InterruptedException {
    return tryCtrIn(NAMESPACE, args);
  }

  /** Like {@link #ctr} in another namespace (the CRI plugin's is {@code k8s.io}). */
  public String ctrIn(String namespace, String... args) throws IOException, InterruptedException {
    Result result = tryCtrIn(namespace, args);
    if (result.exitCode() != 0) {
      throw new IOException(
          "ctr -n "
              + namespace
              + " "
              + String.join(" ", args)
              + " exited "
              + result.exitCode()
              + ": "
              + result.output()
              + "\ncontainerd log tail: "
              + logTail());
    }
    return result.output();
  }

  private Result tryCtrIn(String namespace, String... args)
      throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(List.of(CTR.toString(), "--address", socket().toString(), "-n", namespace));
    command.addAll(List.of(args));
    Process ctr = new ProcessBuilder(command).redirectErrorStream(true).start();
    ctr.getOutputStream().close();
    byte[] output = ctr.getInputStream().readAllBytes();
    if (!ctr.waitFor(CTR_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      ctr.destroyForcibly();
      throw new IOException("ctr " + String.join(" ", args) + " did not end in time");
    }
    return new Result(ctr.exitValue(), new String(output, StandardCharsets.UTF_8));
  }

  public String logTail() throws IOException {
    List<String> lines = Files.readAllLines(dir.resolve("containerd.log"));
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
  }

  private void awaitReady() throws IOException {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("containerd exited at start: " + logTail());
      }
      try {
        // containerd dials its proxy snapshotter lazily; a first dial that fails leaves the
        // connection backing off (up to 3 s) and calls fail fast meanwhile, so wait until a call
        // through containerd reaches the snapshotter.
        if (Files.exists(socket())
            && tryCtr("version").exitCode() == 0
            && tryCtr("snapshots", "--snapshotter", "lazypull", "ls").exitCode() == 0) {
          return;
        }
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted waiting for containerd", e);
      }
    }
    throw new IOException("containerd did not answer within 30 s: " + logTail());
  }

  /** Mount points under this containerd's directory, as /proc/self/mountinfo lists them. */
  public List<String> mountsLeft() throws IOException {
    return mountsUnder(dir);
  }

  /** Mount points at or under {@code root} (deepest first). */
  public static List<String> mountsUnder(Path root) throws IOException {
    String prefix = root.toAbsolutePath().toString();
    List<String> found = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String mountPoint = line.split(" ")[4].replace("\\040", " ");
      if (mountPoint.equals(prefix) || mountPoint.startsWith(prefix + "/")) {
        found.addFirst(mountPoint);
      }
    }
    return found;
  }

  @Override
  public void close() throws IOException {
    process.destroy(); // SIGTERM to this PID only
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        log.warn("containerd {} ignored SIGTERM for 20 s; killing it", process.pid());
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (String mountPoint : mountsLeft()) {
      log.warn("detaching mount containerd left behind: {}", mountPoint);
      try {
        new ProcessBuilder("umount", "-l", mountPoint)
            .inheritIO()
            .start()
            .waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
