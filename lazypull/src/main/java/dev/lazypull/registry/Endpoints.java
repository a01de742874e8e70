package dev.lazypull.registry;

import dev.lazypull.oci.Digest;
import dev.lazypull.registry.RegistryEndpoint.Capability;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Where things live on a registry: which endpoints (mirrors, then the registry) serve a reference
 * for an operation, their v2 API URLs, token scopes, plain HTTP or TLS.
 */
final class Endpoints {

  private record TrustKey(List<Path> caFiles, boolean skipVerify) {}

  private final Set<String> insecureHosts;
  private final RegistryHosts hosts;
  private final Map<TrustKey, TlsTrust> trusts = new ConcurrentHashMap<>();

  Endpoints(Set<String> insecureHosts, RegistryHosts hosts) {
    this.insecureHosts = insecureHosts;
    this.hosts = hosts;
  }

  /** The image's own registry as reached without hosts configuration. */
  ImageRegistry registryOf(ImageReference reference) {
    String apiHost = reference.apiHost();
    return ImageRegistry.plain(reference.registry(), apiHost, isPlainHttp(reference));
  }

  private boolean isPlainHttp(ImageReference reference) {
    String apiHost = reference.apiHost();
    return ImageRegistry.isLoopback(apiHost)
        || insecureHosts.contains(reference.registry())
        || insecureHosts.contains(apiHost);
  }

  /**
   * The endpoints to try, in order, for an operation that needs {@code needed}: the configured
   * mirrors that have all of it, then the server if it has; just the registry without
   * configuration.
   */
  List<ImageRegistry> candidates(ImageReference reference, Set<Capability> needed, String action)
      throws RegistryException {
    RegistryHostConfig config = hosts.lookup(reference.registry());
    if (config == null) {
      return List.of(registryOf(reference));
    }
    List<RegistryEndpoint> able =
        config.endpoints().stream()
            .filter(endpoint -> endpoint.capabilities().containsAll(needed))
            .toList();
    if (able.isEmpty()) {
      throw new RegistryProtocolException(
          action
              + ": no endpoint in "
              + config.source()
              + " has the capabilities "
              + needed.stream().map(Capability::tomlName).sorted().toList()
              + "; add them to the capabilities of the server or of a [host] table");
    }
    List<ImageRegistry> registries = new ArrayList<>();
    for (int i = 0; i < able.size(); i++) {
      registries.add(toRegistry(reference, able.get(i), config.source(), i < able.size() - 1));
    }
    return registries;
  }

  /** Where pushes go: the first endpoint that may push, as in containerd. */
  ImageRegistry pushTarget(ImageReference reference, String action) throws RegistryException {
    return candidates(reference, Set.of(Capability.PUSH), action).getFirst().withoutFallback();
  }

  private ImageRegistry toRegistry(
      ImageReference reference, RegistryEndpoint endpoint, String source, boolean hasFallback)
      throws RegistryException {
    URI url = endpoint.url();
    if (url == null) {
      boolean plainHttp = isPlainHttp(reference);
      url = URI.create((plainHttp ? "http" : "https") + "://" + reference.apiHost());
    }
    String apiHost = url.getRawAuthority();
    String name = apiHost.equalsIgnoreCase(reference.apiHost()) ? reference.registry() : apiHost;
    return new ImageRegistry(
        name,
        apiHost,
        RegistryEndpoint.apiBase(url, endpoint.overridePath()),
        trustOf(endpoint, source),
        source,
        hasFallback,
        endpoint.url() != null);
  }

  private @Nullable TlsTrust trustOf(RegistryEndpoint endpoint, String source)
      throws RegistryException {
    if (endpoint.caFiles().isEmpty() && !endpoint.skipVerify()) {
      return null;
    }
    var key = new TrustKey(endpoint.caFiles(), endpoint.skipVerify());
    TlsTrust known = trusts.get(key);
    if (known != null) {
      return known;
    }
    try {
      TlsTrust made = TlsTrust.of(endpoint.caFiles(), endpoint.skipVerify());
      trusts.put(key, made);
      return made;
    } catch (IOException e) {
      throw new RegistryProtocolException(
          "use " + source + ": " + e.getMessage() + "; fix its ca setting", e);
    }
  }

  URI manifest(ImageRegistry registry, ImageReference reference, String tagOrDigest) {
    return repositoryPath(registry, reference, "manifests/" + tagOrDigest);
  }

  URI blob(ImageRegistry registry, ImageReference reference, Digest digest) {
    return repositoryPath(registry, reference, "blobs/" + digest);
  }

  URI uploads(ImageRegistry registry, ImageReference reference) {
    return repositoryPath(registry, reference, "blobs/uploads/");
  }

  URI mount(
      ImageRegistry registry, ImageReference reference, Digest digest, String fromRepository) {
    return URI.create(
        uploads(registry, reference) + "?mount=" + digest + "&from=" + encode(fromRepository));
  }

  URI tags(ImageRegistry registry, ImageReference reference) {
    return repositoryPath(registry, reference, "tags/list");
  }

  URI referrers(ImageRegistry registry, ImageReference reference, Digest subject) {
    return repositoryPath(registry, reference, "referrers/" + subject);
  }

  static String pullScope(ImageReference reference) {
    return "repository:" + reference.repository() + ":pull";
  }

  static String pushScope(ImageReference reference) {
    return "repository:" + reference.repository() + ":pull,push";
  }

  private static URI repositoryPath(ImageRegistry registry, ImageReference reference, String rest) {
    return registry.apiBase().resolve(reference.repository() + "/" + rest);
  }

  static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }
}
