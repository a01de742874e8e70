package dev.lazypull.soci;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageIndex;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.OciJson;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A loopback front for the real docker-registry that adds what Distribution 2.x lacks: the
 * referrers API. Manifests pushed with a {@code subject} get the {@code OCI-Subject} answer and are
 * listed by {@code GET /v2/<name>/referrers/<digest>}; everything else is passed through. A front
 * made with {@link #refusingWrites} answers every upload and manifest push with 403 DENIED, as a
 * registry does for a user who may only pull.
 */
final class ReferrersFront implements AutoCloseable {

  private static final Pattern REFERRERS =
      Pattern.compile("/v2/(.+)/referrers/(sha256:[0-9a-f]{64})");
  private static final Pattern MANIFEST = Pattern.compile("/v2/(.+)/manifests/([^/]+)");
  private static final Set<String> HOP_HEADERS =
      Set.of("host", "connection", "content-length", "transfer-encoding", "expect", "upgrade");

  private final HttpServer server;
  private final HttpClient http = HttpClient.newBuilder().build();
  private final String backend;
  private final Map<String, List<Descriptor>> referrers = new ConcurrentHashMap<>();
  private final boolean refuseWrites;

  private ReferrersFront(String backendHostPort, boolean refuseWrites) throws IOException {
    this.backend = "http://" + backendHostPort;
    this.refuseWrites = refuseWrites;
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  static ReferrersFront to(String backendHostPort) throws IOException {
    return new ReferrersFront(backendHostPort, false);
  }

  static ReferrersFront refusingWrites(String backendHostPort) throws IOException {
    return new ReferrersFront(backendHostPort, true);
  }

  String hostPort() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      Matcher referrersPath = REFERRERS.matcher(path);
      if (exchange.getRequestMethod().equals("GET") && referrersPath.matches()) {
        List<Descriptor> list =
            referrers.getOrDefault(
                referrersPath.group(1) + "@" + referrersPath.group(2), List.of());
        byte[] body = OciJson.write(ImageIndex.of(list));
        exchange
            .getResponseHeaders()
            .add("Content-Type", "application/vnd.oci.image.index.v1+json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        return;
      }
      byte[] requestBody = exchange.getRequestBody().readAllBytes();
      String method = exchange.getRequestMethod();
      if (refuseWrites
          && (method.equals("PUT") || method.equals("POST") || method.equals("PATCH"))) {
        byte[] denied =
            "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(403, denied.length);
        exchange.getResponseBody().write(denied);
        return;
      }
      HttpResponse<byte[]> answer = forward(exchange, requestBody);
      answer
          .headers()
          .map()
          .forEach(
              (name, values) -> {
                if (!HOP_HEADERS.contains(name.toLowerCase()) && !name.startsWith(":")) {
                  exchange.getResponseHeaders().put(name, values);
                }
              });
      Matcher manifestPath = MANIFEST.matcher(path);
      if (exchange.getRequestMethod().equals("PUT")
          && manifestPath.matches()
          && answer.statusCode() == 201) {
        recordReferrer(exchange, manifestPath.group(1), requestBody);
      }
      boolean noBody = exchange.getRequestMethod().equals("HEAD") || answer.body().length == 0;
      exchange.sendResponseHeaders(answer.statusCode(), noBody ? -1 : answer.body().length);
      if (!noBody) {
        exchange.getResponseBody().write(answer.body());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private HttpResponse<byte[]> forward(HttpExchange exchange, byte[] body)
      throws IOException, InterruptedException {
    var request =
        HttpRequest.newBuilder(URI.create(backend + exchange.getRequestURI()))
            .method(
                exchange.getRequestMethod(),
                body.length == 0
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    exchange
        .getRequestHeaders()
        .forEach(
            (name, values) -> {
              if (!HOP_HEADERS.contains(name.toLowerCase())) {
                values.forEach(v -> request.header(name, v));
              }
            });
    return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private void recordReferrer(HttpExchange exchange, String repository, byte[] body) {
    ImageManifest manifest;
    try {
      manifest = OciJson.read(body, ImageManifest.class);
    } catch (IOException | RuntimeException notAManifest) {
      return;
    }
    if (manifest.subject() == null || manifest.config() == null) {
      return;
    }
    String type =
        manifest.artifactType() != null ? manifest.artifactType() : manifest.config().mediaType();
    Descriptor entry =
        new Descriptor(
            manifest.mediaType(),
            Digest.sha256(body),
            body.length,
            null,
            manifest.annotations(),
            null,
            type);
    referrers
        .computeIfAbsent(repository + "@" + manifest.subject().digest(), k -> new ArrayList<>())
        .add(entry);
    exchange.getResponseHeaders().add("OCI-Subject", manifest.subject().digest().toString());
  }

  @Override
  public void close() {
    server.stop(0);
    http.close();
  }
}
