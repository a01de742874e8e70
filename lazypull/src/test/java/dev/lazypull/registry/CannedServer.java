package dev.lazypull.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback HTTP server with canned answers, for protocol cases a real registry will not produce
 * on demand (expired tokens, ignored ranges, redirects, 429...). Records every request.
 */
final class CannedServer implements AutoCloseable {

  /** Answers one request. */
  @FunctionalInterface
  interface Handler {
    void handle(HttpExchange exchange) throws IOException;
  }

  /** What the server saw: method, path with query, and the request headers (lower-case). */
  record Seen(String method, String pathAndQuery, Map<String, List<String>> headers) {
    String header(String name) {
      List<String> values = headers.get(name.toLowerCase(java.util.Locale.ROOT));
      return values == null ? null : values.getFirst();
    }
  }

  private final HttpServer server;
  final List<Seen> seen = new CopyOnWriteArrayList<>();

  CannedServer(Handler handler) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    server.createContext(
        "/",
        exchange -> {
          var headers = new java.util.TreeMap<String, List<String>>();
          exchange
              .getRequestHeaders()
              .forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), List.copyOf(v)));
          seen.add(
              new Seen(exchange.getRequestMethod(), exchange.getRequestURI().toString(), headers));
          try (exchange) {
            exchange.getRequestBody().readAllBytes();
            handler.handle(exchange);
          }
        });
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  String hostPort() {
    return "127.0.0.1:" + port();
  }

  List<Seen> seenOn(String pathPrefix) {
    return seen.stream().filter(s -> s.pathAndQuery().startsWith(pathPrefix)).toList();
  }

  static void respond(HttpExchange exchange, int status, Map<String, String> headers, byte[] body)
      throws IOException {
    headers.forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
    boolean noBody = body.length == 0 || exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, noBody ? -1 : body.length);
    if (!noBody) {
      exchange.getResponseBody().write(body);
    }
  }

  static void respond(HttpExchange exchange, int status, String body) throws IOException {
    respond(exchange, status, Map.of(), body.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
