package dev.lazypull.registry;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** One HTTP request as the transport sends it. */
record HttpRequest(
    String method, URI uri, Map<String, String> headers, @Nullable RequestBody body) {

  HttpRequest {
    headers = Map.copyOf(headers);
  }

  static HttpRequest get(URI uri, Map<String, String> headers) {
    return new HttpRequest("GET", uri, headers, null);
  }

  /** A copy with one more header (or the header replaced). */
  HttpRequest withHeader(String name, String value) {
    var copy = new LinkedHashMap<>(headers);
    copy.put(name, value);
    return new HttpRequest(method, uri, copy, body);
  }

  /** A GET of another URL with the same headers except Authorization (redirect targets). */
  HttpRequest redirectedTo(URI target) {
    var copy = new LinkedHashMap<>(headers);
    copy.keySet().removeIf(name -> name.equalsIgnoreCase("Authorization"));
    return new HttpRequest(method, target, copy, null);
  }

  @Override
  public String toString() {
    // Headers are left out on purpose: Authorization holds a secret.
    return method + " " + uri;
  }
}
