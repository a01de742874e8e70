package dev.lazypull.registry;

import dev.lazypull.oci.Digest;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** Where things live on a registry: v2 API URLs, token scopes, plain HTTP or TLS. */
final class Endpoints {

  private final Set<String> insecureHosts;

  Endpoints(Set<String> insecureHosts) {
    this.insecureHosts = insecureHosts;
  }

  ImageRegistry registryOf(ImageReference reference) {
    String name = reference.registry();
    String apiHost = reference.apiHost();
    boolean plainHttp =
        ImageRegistry.isLoopback(apiHost)
            || insecureHosts.contains(name)
            || insecureHosts.contains(apiHost);
    return new ImageRegistry(name, apiHost, plainHttp);
  }

  URI manifest(ImageReference reference, String tagOrDigest) {
    return repositoryPath(reference, "manifests/" + tagOrDigest);
  }

  URI blob(ImageReference reference, Digest digest) {
    return repositoryPath(reference, "blobs/" + digest);
  }

  URI uploads(ImageReference reference) {
    return repositoryPath(reference, "blobs/uploads/");
  }

  URI mount(ImageReference reference, Digest digest, String fromRepository) {
    return URI.create(uploads(reference) + "?mount=" + digest + "&from=" + encode(fromRepository));
  }

  URI tags(ImageReference reference) {
    return repositoryPath(reference, "tags/list");
  }

  URI referrers(ImageReference reference, Digest subject) {
    return repositoryPath(reference, "referrers/" + subject);
  }

  URI resolve(ImageReference reference, String location) {
    return registryOf(reference).apiBase().resolve(location);
  }

  static String pullScope(ImageReference reference) {
    return "repository:" + reference.repository() + ":pull";
  }

  static String pushScope(ImageReference reference) {
    return "repository:" + reference.repository() + ":pull,push";
  }

  private URI repositoryPath(ImageReference reference, String rest) {
    return registryOf(reference).apiBase().resolve(reference.repository() + "/" + rest);
  }

  static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }
}
