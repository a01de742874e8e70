package dev.lazypull.registry;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP request as the transport sends it.
 *
 * @param tls the TLS trust of the endpoint it goes to (and of that endpoint's redirects and token
 *     service, as in containerd), or null for the JDK's defaults
 */
record HttpRequest(
    String method,
    URI uri,
    Map<String, String> headers,
    @Nullable RequestBody body,
    @Nullable TlsTrust tls) {

  HttpRequest {
    headers = Map.copyOf(headers);
  }

  HttpRequest(String method, URI uri, Map<String, String> headers, @Nullable RequestBody body) {
    this(method, uri, headers, body, null);
  }

  /** A copy sent with the given TLS trust. */
  HttpRequest withTls(@Nullable TlsTrust trust) {
    return new HttpRequest(method, uri, headers, body, trust);
  }

  static HttpRequest get(URI uri, Map<String, String> headers) {
    return new HttpRequest("GET", uri, headers, null);
  }

  /** A copy with one more header (or the header replaced). */
  HttpRequest withHeader(String name, String value) {
    var copy = new LinkedHashMap<>(headers);
    copy.put(name, value);
    return new HttpRequest(method, uri, copy, body, tls);
  }

  /** A GET of another URL with the same headers except Authorization (redirect targets). */
  HttpRequest redirectedTo(URI target) {
    var copy = new LinkedHashMap<>(headers);
    copy.keySet().removeIf(name -> name.equalsIgnoreCase("Authorization"));
    return new HttpRequest(method, target, copy, null, tls);
  }

  @Override
  public String toString() {
    // Headers are left out on purpose: Authorization holds a secret.
    return method + " " + uri;
  }
}
