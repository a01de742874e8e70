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
    checkKeys(file, toml);
    List<String> insecure = new ArrayList<>();
    for (JsonNode host : toml.path("registry").path("insecure")) {
      insecure.add(host.asText());
    }
    Map<String, List<String>> mirrors = mirrors(file, toml.path("registry").path("mirrors"));
    String configPath = text(file, toml, "registry", "config_path", "");
    String metrics = text(file, toml, "metrics", "address", "");
    var config =
        new SnapshotterConfig(
            Path.of(text(file, toml, "", "root", defaults.root().toString())),
            Path.of(text(file, toml, "", "address", defaults.address().toString())),
            bool(file, toml, "", "remote", true),
            number(file, toml, "cache", "size_mib", defaults.cacheMib(), MAX_MIB),
            number(
                file,
                toml,
                "fetch",
                "read_timeout_seconds",
                defaults.readTimeoutSeconds(),
                MAX_SECONDS),
            configPath.isEmpty() ? null : Path.of(configPath),
            insecure,
            mirrors,
            metrics.isEmpty() ? null : metrics,
            backgroundFetch(file, toml),
            (int)
                number(
                    file,
                    toml,
                    "fetch",
                    "concurrency",
                    defaults.fetchConcurrency(),
                    Integer.MAX_VALUE),
            bool(file, toml, "estargz", "allow_no_verification", false));
    if (config.cacheMib() <= 0 || config.readTimeoutSeconds() <= 0) {
      throw new IOException(
          file + ": cache.size_mib and fetch.read_timeout_seconds must be positive");
    }
    return config;
  }

  /** MiB values are turned into bytes ({@code << 20}): larger ones would overflow. */
  private static final long MAX_MIB = Long.MAX_VALUE >> 20;

  /** Seconds are turned into nanoseconds: about 31 years is far enough to mean "never". */
  private static final long MAX_SECONDS = 1_000_000_000L;

  /**
   * The tables and keys the file may hold. A misspelt key (say {@code [background-fetch]}) would
   * otherwise be ignored without a word, leaving the default in force.
   */
  private static final Set<String> TOP_KEYS =
      Set.of(
          "root",
          "address",
          "remote",
          "cache",
          "fetch",
          "background_fetch",
          "registry",
          "metrics",
          "estargz");

  private static final Map<String, Set<String>> KEYS =
      Map.of(
          "cache",
          Set.of("size_mib"),
          "fetch",
          Set.of("read_timeout_seconds", "concurrency"),
          "background_fetch",
          Set.of("enabled", "start_delay_seconds", "rate_mib_per_second"),
          "registry",
          Set.of("config_path", "insecure", "mirrors"),
          "metrics",
          Set.of("address"),
          "estargz",
          Set.of("allow_no_verification"));

  private static void checkKeys(Path file, JsonNode toml) throws IOException {
    for (Map.Entry<String, JsonNode> entry : toml.properties()) {
      String key = entry.getKey();
      if (!TOP_KEYS.contains(key)) {
        throw new IOException(
            file + ": unknown key " + key + "; known: " + String.join(", ", sorted(TOP_KEYS)));
      }
      Set<String> inner = KEYS.get(key);
      if (inner == null) {
        continue;
      }
      if (!entry.getValue().isObject()) {
        throw new IOException(file + ": " + key + " must be a table ([" + key + "])");
      }
      for (Map.Entry<String, JsonNode> field : entry.getValue().properties()) {
        if (!inner.contains(field.getKey())) {
          throw new IOException(
              file
                  + ": unknown key "
                  + key
                  + "."
                  + field.getKey()
                  + "; known in ["
                  + key
                  + "]: "
                  + String.join(", ", sorted(inner)));
        }
      }
    }
  }

  private static List<String> sorted(Set<String> keys) {
    return keys.stream().sorted().toList();
  }

  private static JsonNode node(JsonNode toml, String table, String key) {
    return (table.isEmpty() ? toml : toml.path(table)).path(key);
  }

  private static String name(String table, String key) {
    return table.isEmpty() ? key : table + "." + key;
  }

  private static String text(Path file, JsonNode toml, String table, String key, String absent)
      throws IOException {
    JsonNode value = node(toml, table, key);
    if (value.isMissingNode()) {
      return absent;
    }
    if (!value.isTextual()) {
      throw new IOException(file + ": " + name(table, key) + " must be a string (in quotes)");
    }
    return value.asText();
  }

  private static boolean bool(Path file, JsonNode toml, String table, String key, boolean absent)
      throws IOException {
    JsonNode value = node(toml, table, key);
    if (value.isMissingNode()) {
      return absent;
    }
    if (!value.isBoolean()) {
      throw new IOException(
          file + ": " + name(table, key) + " must be true or false (without quotes)");
    }
    return value.booleanValue();
  }

  private static long number(
      Path file, JsonNode toml, String table, String key, long absent, long max)
      throws IOException {
    JsonNode value = node(toml, table, key);
    if (value.isMissingNode()) {
      return absent;
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw new IOException(
          file + ": " + name(table, key) + " must be a whole number (without quotes)");
    }
    if (value.longValue() < 0) {
      throw new IOException(file + ": " + name(table, key) + " must not be negative");
    }
    if (value.longValue() > max) {
      throw new IOException(file + ": " + name(table, key) + " must be at most " + max);
    }
    return value.longValue();
  }

  private static @Nullable BackgroundFetchPolicy backgroundFetch(Path file, JsonNode toml)
      throws IOException {
    if (!bool(file, toml, "background_fetch", "enabled", true)) {
      return null;
    }
    long delay =
        number(
            file,
            toml,
            "background_fetch",
            "start_delay_seconds",
            BackgroundFetchPolicy.DEFAULT_START_DELAY.toSeconds(),
            MAX_SECONDS);
    long rateMib = number(file, toml, "background_fetch", "rate_mib_per_second", 0, MAX_MIB);
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
              + ": registry.mirrors must be a table such as"
              + " { \"docker.io\" = [\"http://m:5000\"] }");
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
