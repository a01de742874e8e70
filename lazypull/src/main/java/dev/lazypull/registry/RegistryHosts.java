package dev.lazypull.registry;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Where each registry's content is fetched from: containerd's hosts directory ({@code config_path},
 * e.g. /etc/containerd/certs.d, one {@code <host[:port]>/hosts.toml} per registry and {@code
 * _default} for the rest) and mirrors named in lazypull's own config. Read once, when loaded: a
 * change to the directory takes effect at the next start.
 */
public final class RegistryHosts {

  /** The namespace directory used for registries that have none of their own. */
  public static final String DEFAULT_NAMESPACE = "_default";

  private static final RegistryHosts NONE = new RegistryHosts(Map.of());

  private final Map<String, RegistryHostConfig> byNamespace;

  private RegistryHosts(Map<String, RegistryHostConfig> byNamespace) {
    this.byNamespace = Map.copyOf(byNamespace);
  }

  /** No configuration: every registry is reached at its own address. */
  public static RegistryHosts none() {
    return NONE;
  }

  /**
   * Reads every namespace directory under {@code configPath}. A directory without hosts.toml that
   * holds Docker-style {@code *.crt} files trusts them for the registry itself (client {@code
   * .cert}/{@code .key} pairs are not supported). A missing {@code configPath} means no
   * configuration. Fails with one line naming the file that is wrong, CA files included.
   */
  public static RegistryHosts load(Path configPath) throws IOException {
    if (!Files.isDirectory(configPath)) {
      return NONE;
    }
    Map<String, RegistryHostConfig> byNamespace = new LinkedHashMap<>();
    try (Stream<Path> dirs = Files.list(configPath)) {
      for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
        RegistryHostConfig config = readNamespace(dir);
        if (config != null) {
          for (RegistryEndpoint endpoint : config.endpoints()) {
            TlsTrust.check(endpoint, config.source());
          }
          byNamespace.put(dir.getFileName().toString(), config);
        }
      }
    }
    return new RegistryHosts(byNamespace);
  }

  private static @Nullable RegistryHostConfig readNamespace(Path dir) throws IOException {
    Path hostsToml = dir.resolve("hosts.toml");
    if (Files.isRegularFile(hostsToml)) {
      return HostsToml.parse(hostsToml);
    }
    List<Path> certificates;
    try (Stream<Path> files = Files.list(dir)) {
      certificates = files.filter(f -> f.toString().endsWith(".crt")).sorted().toList();
    }
    if (certificates.isEmpty()) {
      return null;
    }
    RegistryEndpoint own = RegistryEndpoint.ownServer();
    return new RegistryHostConfig(
        dir.toString(),
        List.of(new RegistryEndpoint(null, own.capabilities(), certificates, false, false)));
  }

  /**
   * These hosts with mirrors tried first (before any hosts.toml endpoints) for the given
   * registries: {@code "docker.io" -> ["http://127.0.0.1:5001"]}. Mirrors may pull and resolve.
   */
  public RegistryHosts withMirrors(Map<String, List<String>> mirrors, String source) {
    if (mirrors.isEmpty()) {
      return this;
    }
    Map<String, RegistryHostConfig> merged = new LinkedHashMap<>(byNamespace);
    mirrors.forEach(
        (registry, urls) -> {
          List<RegistryEndpoint> endpoints = new ArrayList<>();
          for (String url : urls) {
            endpoints.add(RegistryEndpoint.mirror(mirrorUrl(registry, url, source)));
          }
          RegistryHostConfig existing = merged.get(registry);
          merged.put(
              registry,
              existing == null
                  ? new RegistryHostConfig(source, withOwnServer(endpoints))
                  : existing.withMirrorsFirst(source, endpoints));
        });
    return new RegistryHosts(merged);
  }

  private static List<RegistryEndpoint> withOwnServer(List<RegistryEndpoint> mirrors) {
    List<RegistryEndpoint> all = new ArrayList<>(mirrors);
    all.add(RegistryEndpoint.ownServer());
    return all;
  }

  private static URI mirrorUrl(String registry, String url, String source) {
    String withScheme = url.contains("://") ? url : "https://" + url;
    try {
      URI parsed = URI.create(withScheme);
      if (parsed.getHost() != null
          && (parsed.getScheme().equals("http") || parsed.getScheme().equals("https"))) {
        return parsed;
      }
    } catch (IllegalArgumentException e) {
      // Told below, with the registry it was given for.
    }
    throw new IllegalArgumentException(
        source
            + ": mirror '"
            + url
            + "' of "
            + registry
            + " is not an http(s) URL; write http://host:port or https://host");
  }

  /**
   * The configuration for a registry ({@code host[:port]} as in the image reference), looked up as
   * containerd does: {@code host_port_}, then {@code host:port}, then {@code _default}; null when
   * none applies.
   */
  public @Nullable RegistryHostConfig lookup(String registry) {
    int colon = registry.lastIndexOf(':');
    if (colon > 0 && !registry.endsWith("]")) {
      RegistryHostConfig underscored =
          byNamespace.get(registry.substring(0, colon) + "_" + registry.substring(colon + 1) + "_");
      if (underscored != null) {
        return underscored;
      }
    }
    RegistryHostConfig own = byNamespace.get(registry);
    return own != null ? own : byNamespace.get(DEFAULT_NAMESPACE);
  }

  public boolean isEmpty() {
    return byNamespace.isEmpty();
  }

  /** The namespaces configured, for logs: {@code docker.io, _default}. */
  public List<String> namespaces() {
    return List.copyOf(byNamespace.keySet());
  }

  @Override
  public String toString() {
    return "RegistryHosts" + byNamespace.keySet();
  }
}
