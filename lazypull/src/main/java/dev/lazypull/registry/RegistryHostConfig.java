package dev.lazypull.registry;

import java.util.ArrayList;
import java.util.List;

/**
 * What one registry namespace's hosts.toml says: the endpoints in the order they are tried, mirrors
 * first and the server last.
 *
 * @param source where it was read, for error messages (a hosts.toml path)
 * @param endpoints the mirrors in file order, then the server; never empty
 */
public record RegistryHostConfig(String source, List<RegistryEndpoint> endpoints) {

  public RegistryHostConfig {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException(source + ": no server endpoint");
    }
    endpoints = List.copyOf(endpoints);
  }

  /** The mirrors ({@code [host."URL"]} tables), in the order they are tried. */
  public List<RegistryEndpoint> mirrors() {
    return endpoints.subList(0, endpoints.size() - 1);
  }

  /** The server ({@code server} and the top-level keys), tried after the mirrors. */
  public RegistryEndpoint server() {
    return endpoints.getLast();
  }

  /** The same, with {@code first} tried before these endpoints. */
  RegistryHostConfig withMirrorsFirst(String firstSource, List<RegistryEndpoint> first) {
    List<RegistryEndpoint> all = new ArrayList<>(first);
    all.addAll(endpoints);
    return new RegistryHostConfig(firstSource + ", then " + source, all);
  }
}
