package dev.lazypull.snapshotter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.lazypull.fs.layer.BackgroundFetchPolicy;
import dev.lazypull.registry.RegistryHosts;
import dev.lazypull.registry.RegistryOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * concurrency = 0                     # ranged GETs in flight at most; 0: no limit
 * [background_fetch]
 * enabled = true                      # pull the rest of each lazy layer while it is mounted
 * start_delay_seconds = 30            # after its mount (SOCI's silence period)
 * rate_mib_per_second = 0             # 0: no limit
 * [registry]
 * config_path = "/etc/containerd/certs.d"   # containerd's hosts.toml directories
 * insecure = ["registry.local:5000"]        # plain HTTP
 * mirrors = { "docker.io" = ["http://127.0.0.1:5001"] }   # tried first, pull and resolve
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
    Map<String, List<String>> mirrors,
    @Nullable String metricsAddress,
    @Nullable BackgroundFetchPolicy backgroundFetch,
    int fetchConcurrency,
    boolean estargzAllowNoVerification) {

  public static final Path DEFAULT_FILE = Path.of("/etc/lazypull/config.toml");

  public SnapshotterConfig {
    insecureHosts = List.copyOf(insecureHosts);
    var copy = new LinkedHashMap<String, List<String>>();
    mirrors.forEach((registry, urls) -> copy.put(registry, List.copyOf(urls)));
    mirrors = Collections.unmodifiableMap(copy);
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
        Map.of(),
        null,
        BackgroundFetchPolicy.defaults(),
        0,
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
    Map<String, List<String>> mirrors = mirrors(file, toml.path("registry").path("mirrors"));
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
            mirrors,
            metrics.isEmpty() ? null : metrics,
            backgroundFetch(file, toml.path("background_fetch")),
            toml.path("fetch").path("concurrency").asInt(defaults.fetchConcurrency()),
            toml.path("estargz").path("allow_no_verification").asBoolean(false));
    if (config.cacheMib() <= 0 || config.readTimeoutSeconds() <= 0) {
      throw new IOException(
          file + ": cache.size_mib and fetch.read_timeout_seconds must be positive");
    }
    if (config.fetchConcurrency() < 0) {
      throw new IOException(file + ": fetch.concurrency must not be negative (0: no limit)");
    }
    return config;
  }

  private static @Nullable BackgroundFetchPolicy backgroundFetch(Path file, JsonNode table)
      throws IOException {
    if (!table.path("enabled").asBoolean(true)) {
      return null;
    }
    long delay =
        table
            .path("start_delay_seconds")
            .asLong(BackgroundFetchPolicy.DEFAULT_START_DELAY.toSeconds());
    long rateMib = table.path("rate_mib_per_second").asLong(0);
    if (delay < 0 || rateMib < 0) {
      throw new IOException(
          file
              + ": background_fetch.start_delay_seconds and rate_mib_per_second must not be"
              + " negative");
    }
    return new BackgroundFetchPolicy(
        Duration.ofSeconds(delay), BackgroundFetchPolicy.DEFAULT_QUIET, rateMib << 20);
  }

  /** {@code mirrors = { "docker.io" = ["http://..."] }}: registry to mirror URLs, in order. */
  private static Map<String, List<String>> mirrors(Path file, JsonNode node) throws IOException {
    Map<String, List<String>> mirrors = new LinkedHashMap<>();
    if (node.isMissingNode()) {
      return mirrors;
    }
    if (!node.isObject()) {
      throw new IOException(
          file
              + ": registry.mirrors must be a table such as { \"docker.io\" = [\"http://m:5000\"] }");
    }
    for (Map.Entry<String, JsonNode> entry : node.properties()) {
      List<String> urls = new ArrayList<>();
      if (!entry.getValue().isArray()) {
        throw new IOException(
            file + ": registry.mirrors \"" + entry.getKey() + "\" must be a list of URLs");
      }
      entry.getValue().forEach(url -> urls.add(url.asText()));
      mirrors.put(entry.getKey(), urls);
    }
    return mirrors;
  }

  /**
   * The registry client's options: {@code base} (the command line's) plus the file's plain-HTTP
   * hosts, its mirrors and the hosts.toml directory at {@code config_path}. Fails with one line
   * naming a hosts.toml or CA file that is wrong.
   */
  public RegistryOptions registryOptions(RegistryOptions base, Path configFile) throws IOException {
    Set<String> insecure = new HashSet<>(base.insecureHosts());
    insecure.addAll(insecureHosts);
    RegistryHosts hosts =
        registryConfigPath == null ? RegistryHosts.none() : RegistryHosts.load(registryConfigPath);
    try {
      hosts = hosts.withMirrors(mirrors, configFile.toString());
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    return base.withInsecureHosts(insecure).withHosts(hosts);
  }
}
