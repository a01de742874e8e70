package dev.lazypull.registry;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/** One HTTP response; the body must be closed (or read to the end) to reuse the connection. */
final class HttpResponse implements Closeable {

  private final URI uri;
  private final int status;
  private final Map<String, List<String>> headers;
  private final InputStream body;

  HttpResponse(URI uri, int status, Map<String, List<String>> headers, InputStream body) {
    this.uri = uri;
    this.status = status;
    this.headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.forEach(
        (name, values) -> {
          if (name != null) {
            this.headers.put(name, values);
          }
        });
    this.body = body;
  }

  URI uri() {
    return uri;
  }

  int status() {
    return status;
  }

  /** The first value of a header, or null. */
  @Nullable String header(String name) {
    List<String> values = headers.get(name);
    return values == null || values.isEmpty() ? null : values.getFirst();
  }

  /** Every value of a header. */
  List<String> headers(String name) {
    return headers.getOrDefault(name, List.of());
  }

  InputStream body() {
    return body;
  }

  /** The body as bytes, at most {@code limit}; the rest is dropped. */
  byte[] bodyBytes(int limit) throws IOException {
    try (body) {
      return body.readNBytes(limit);
    }
  }

  boolean isRedirect() {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  @Override
  public void close() throws IOException {
    body.close();
  }
}
