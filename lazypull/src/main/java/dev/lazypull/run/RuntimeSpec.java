package dev.lazypull.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the OCI runtime-spec {@code config.json} for one container: the process from the image
 * config and the user's overrides, and the namespaces, mounts and capabilities that runc's and
 * Docker's defaults give an unprivileged container.
 */
public final class RuntimeSpec {
  private static final String DEFAULT_PATH =
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  private static final List<String> CAPABILITIES =
      List.of(
          "CAP_CHOWN",
          "CAP_DAC_OVERRIDE",
          "CAP_FSETID",
          "CAP_FOWNER",
          "CAP_MKNOD",
          "CAP_NET_RAW",
          "CAP_SETGID",
          "CAP_SETUID",
          "CAP_SETFCAP",
          "CAP_SETPCAP",
          "CAP_NET_BIND_SERVICE",
          "CAP_SYS_CHROOT",
          "CAP_KILL",
          "CAP_AUDIT_WRITE");
  private static final List<String> MASKED_PATHS =
      List.of(
          "/proc/acpi",
          "/proc/asound",
          "/proc/kcore",
          "/proc/keys",
          "/proc/latency_stats",
          "/proc/timer_list",
          "/proc/timer_stats",
          "/proc/sched_debug",
          "/proc/scsi",
          "/sys/firmware");
  private static final List<String> READONLY_PATHS =
      List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

  private final ObjectMapper json = new ObjectMapper();

  /** The process arguments: Docker's rule for combining entrypoint, cmd and overrides. */
  public static List<String> processArgs(ContainerConfig image, RunOptions options) {
    List<String> args = new ArrayList<>();
    if (options.entrypoint() != null) {
      if (!options.entrypoint().isEmpty()) {
        args.add(options.entrypoint());
      }
      args.addAll(options.args());
    } else {
      args.addAll(image.entrypoint());
      args.addAll(options.args().isEmpty() ? image.cmd() : options.args());
    }
    if (args.isEmpty()) {
      throw new IllegalArgumentException(
          "the image has no Entrypoint or Cmd: give a command after --");
    }
    return args;
  }

  /** The environment: the image's, then the user's, with PATH and HOME filled in if absent. */
  public static List<String> processEnv(
      ContainerConfig image, RunOptions options, ProcessUser user, Map<String, String> host) {
    Map<String, String> env = new LinkedHashMap<>();
    for (String entry : image.env()) {
      put(env, entry);
    }
    for (String entry : options.env()) {
      if (entry.isEmpty() || entry.startsWith("=")) {
        throw new IllegalArgumentException(
            "-e '" + entry + "': the variable name is empty; give KEY=VALUE or KEY");
      }
      if (entry.contains("=")) {
        put(env, entry);
      } else if (host.containsKey(entry)) {
        env.put(entry, entry + "=" + host.get(entry));
      }
    }
    env.putIfAbsent("PATH", DEFAULT_PATH);
    env.putIfAbsent("HOME", "HOME=" + user.home());
    if (options.tty()) {
      env.putIfAbsent("TERM", "TERM=xterm");
    }
    return List.copyOf(env.values());
  }

  private static void put(Map<String, String> env, String entry) {
    int eq = entry.indexOf('=');
    env.put(eq < 0 ? entry : entry.substring(0, eq), entry);
  }

  /** Builds config.json as a JSON tree. */
  public ObjectNode build(
      ContainerConfig image,
      RunOptions options,
      ProcessUser user,
      String rootfs,
      String hostname,
      Map<String, String> hostEnv) {
    ObjectNode spec = json.createObjectNode();
    spec.put("ociVersion", "1.0.2");
    spec.set("process", process(image, options, user, hostEnv));
    ObjectNode root = spec.putObject("root");
    root.put("path", rootfs);
    root.put("readonly", false);
    spec.put("hostname", hostname);
    spec.set("mounts", mounts(options));
    spec.set("linux", linux(options));
    return spec;
  }

  private ObjectNode process(
      ContainerConfig image, RunOptions options, ProcessUser user, Map<String, String> hostEnv) {
    ObjectNode process = json.createObjectNode();
    process.put("terminal", options.tty());
    ObjectNode userNode = process.putObject("user");
    userNode.put("uid", user.uid());
    userNode.put("gid", user.gid());
    if (!user.additionalGids().isEmpty()) {
      ArrayNode gids = userNode.putArray("additionalGids");
      user.additionalGids().forEach(gids::add);
    }
    strings(process.putArray("args"), processArgs(image, options));
    strings(process.putArray("env"), processEnv(image, options, user, hostEnv));
    String cwd = options.workingDir() != null ? options.workingDir() : image.workingDir();
    if (options.workingDir() != null && !cwd.startsWith("/")) {
      throw new IllegalArgumentException(
          "-w '" + cwd + "': the working directory must be an absolute path, e.g. -w /tmp");
    }
    process.put("cwd", cwd.isEmpty() ? "/" : cwd);
    ObjectNode caps = process.putObject("capabilities");
    for (String set : List.of("bounding", "effective", "permitted")) {
      strings(caps.putArray(set), CAPABILITIES);
    }
    // No rlimits: the process inherits lazypull's, which a container may not raise anyway.
    process.put("noNewPrivileges", true);
    return process;
  }

  private ArrayNode mounts(RunOptions options) {
    ArrayNode mounts = json.createArrayNode();
    mount(mounts, "/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev"));
    mount(
        mounts,
        "/dev",
        "tmpfs",
        "tmpfs",
        List.of("nosuid", "strictatime", "mode=755", "size=65536k"));
    mount(
        mounts,
        "/dev/pts",
        "devpts",
        "devpts",
        List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"));
    mount(
        mounts,
        "/dev/shm",
        "tmpfs",
        "shm",
        List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"));
    mount(mounts, "/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev"));
    if (options.networkNone()) {
      mount(mounts, "/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro"));
    } else {
      // sysfs cannot be mounted afresh without a network namespace of its own: bind the host's.
      mount(mounts, "/sys", "bind", "/sys", List.of("rbind", "nosuid", "noexec", "nodev", "ro"));
    }
    for (String bind : options.binds()) {
      String[] parts = bind.split(":");
      if (parts.length < 2 || parts.length > 3 || (parts.length == 3 && !parts[2].equals("ro"))) {
        throw new IllegalArgumentException(
            "bind mount '" + bind + "': expected SRC:DST or SRC:DST:ro");
      }
      if (!parts[0].startsWith("/") || !parts[1].startsWith("/")) {
        throw new IllegalArgumentException(
            "bind mount '" + bind + "': SRC and DST must be absolute paths, e.g. /srv:/srv:ro");
      }
      List<String> flags = new ArrayList<>(List.of("rbind", "rprivate"));
      if (parts.length == 3) {
        flags.add("ro");
      }
      mount(mounts, parts[1], "bind", parts[0], flags);
    }
    return mounts;
  }

  private void mount(ArrayNode mounts, String dest, String type, String source, List<String> opts) {
    ObjectNode m = mounts.addObject();
    m.put("destination", dest);
    m.put("type", type);
    m.put("source", source);
    strings(m.putArray("options"), opts);
  }

  private ObjectNode linux(RunOptions options) {
    ObjectNode linux = json.createObjectNode();
    ArrayNode namespaces = linux.putArray("namespaces");
    List<String> kinds = new ArrayList<>(List.of("pid", "ipc", "uts", "mount"));
    if (options.networkNone()) {
      kinds.add("network");
    }
    kinds.forEach(kind -> namespaces.addObject().put("type", kind));
    strings(linux.putArray("maskedPaths"), MASKED_PATHS);
    strings(linux.putArray("readonlyPaths"), READONLY_PATHS);
    ObjectNode denyAll = linux.putObject("resources").putArray("devices").addObject();
    denyAll.put("allow", false);
    denyAll.put("access", "rwm");
    return linux;
  }

  private static void strings(ArrayNode array, List<String> values) {
    values.forEach(array::add);
  }
}
