package dev.lazypull.snapshotter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The snapshotter's settings from {@code /etc/lazypull/config.toml}; a missing file means all
 * defaults. Command-line options override what the file says.
 *
 * <pre>
 * root = "/var/lib/lazypull/snapshotter"
 * address = "/run/lazypull/snapshotter.sock"
 * remote = true                       # false: plain snapshots only
 * [cache]
 * size_mib = 10240
 * [fetch]
 * read_timeout_seconds = 60
 * [registry]
 * config_path = "/etc/containerd/certs.d"   # containerd's hosts.toml directories
 * insecure = ["registry.local:5000"]        # plain HTTP
 * [metrics]
 * address = "127.0.0.1:9464"                # Prometheus /metrics; off when absent
 * [estargz]
 * allow_no_verification = false   # true: mount (e)stargz layers without the toc.digest
 *                                 # annotation lazily through their unverified TOC (insecure)
 * </pre>
 *
 * <p>{@code allow_no_verification} is the stargz snapshotter's name for the same choice; its {@code
 * disable_verification} (no chunk checks at all) has no counterpart here.
 */
public record SnapshotterConfig(
    Path root,
    Path address,
    boolean remote,
    long cacheMib,
    long readTimeoutSeconds,
    @Nullable Path registryConfigPath,
    List<String> insecureHosts,
    @Nullable String metricsAddress,
    boolean estargzAllowNoVerification) {

  public static final Path DEFAULT_FILE = Path.of("/etc/lazypull/config.toml");

  public SnapshotterConfig {
    insecureHosts = List.copyOf(insecureHosts);
  }

  public static SnapshotterConfig defaults() {
    return new SnapshotterConfig(
        Path.of("/var/lib/lazypull/snapshotter"),
        Path.of("/run/lazypull/snapshotter.sock"),
        true,
        10240,
        60,
        null,
        List.of(),
        null,
        false);
  }

  /** Reads {@code file}; a missing file gives the defaults, a malformed one fails naming it. */
  public static SnapshotterConfig load(Path file) throws IOException {
    SnapshotterConfig defaults = defaults();
    if (!Files.exists(file)) {
      return defaults;
    }
    JsonNode toml;
    try {
      toml = new TomlMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("read " + file + ": not valid TOML (" + e.getMessage() + ")", e);
    }
    List<String> insecure = new ArrayList<>();
    for (JsonNode host : toml.path("registry").path("insecure")) {
      insecure.add(host.asText());
    }
    String configPath = toml.path("registry").path("config_path").asText("");
    String metrics = toml.path("metrics").path("address").asText("");
    var config =
        new SnapshotterConfig(
            Path.of(toml.path("root").asText(defaults.root().toString())),
            Path.of(toml.path("address").asText(defaults.address().toString())),
            toml.path("remote").asBoolean(true),
            toml.path("cache").path("size_mib").asLong(defaults.cacheMib()),
            toml.path("fetch").path("read_timeout_seconds").asLong(defaults.readTimeoutSeconds()),
            configPath.isEmpty() ? null : Path.of(configPath),
            insecure,
            metrics.isEmpty() ? null : metrics,
            toml.path("estargz").path("allow_no_verification").asBoolean(false));
    if (config.cacheMib() <= 0 || config.readTimeoutSeconds() <= 0) {
      throw new IOException(
          file + ": cache.size_mib and fetch.read_timeout_seconds must be positive");
    }
    return config;
  }

  /** Insecure hosts from the file plus those whose hosts.toml speaks plain HTTP. */
  public List<String> allInsecureHosts() throws IOException {
    List<String> hosts = new ArrayList<>(insecureHosts);
    if (registryConfigPath != null) {
      hosts.addAll(RegistryHostsDirectory.plainHttpHosts(registryConfigPath));
    }
    return hosts;
  }
}
