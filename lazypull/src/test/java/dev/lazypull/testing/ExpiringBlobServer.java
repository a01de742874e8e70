package dev.lazypull.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A second loopback server standing in for a registry's blob storage (S3 and the like): it serves
 * blobs straight from a {@link LocalRegistry}'s storage directory at URLs that carry their own
 * expiry time, answering 403 once it has passed, as presigned URLs do. A {@link FaultProxy}
 * redirects blob GETs here with {@link Fault.RedirectToExpiringUrl}. Honours one Range.
 */
public final class ExpiringBlobServer implements AutoCloseable {
  private static final Pattern BLOB_PATH = Pattern.compile(".*/blobs/sha256:([0-9a-f]{64}).*");
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d+)");

  private final HttpServer server;
  private final Path registryStorage;
  private final AtomicInteger served = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();

  private ExpiringBlobServer(Path registryStorage) throws IOException {
    this.registryStorage = registryStorage;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Serves the blobs of the registry whose storage is {@code registryStorage}. */
  public static ExpiringBlobServer over(Path registryStorage) throws IOException {
    return new ExpiringBlobServer(registryStorage);
  }

  /** A URL for the blob named in {@code registryPath} that works for {@code lifetime}. */
  URI urlFor(String registryPath, Duration lifetime) {
    Matcher match = BLOB_PATH.matcher(registryPath);
    if (!match.matches()) {
      throw new IllegalArgumentException("not a blob path: " + registryPath);
    }
    long expiresMillis = System.currentTimeMillis() + lifetime.toMillis();
    return URI.create(
        "http://127.0.0.1:"
            + server.getAddress().getPort()
            + "/blobs/"
            + match.group(1)
            + "?expires="
            + expiresMillis);
  }

  /** Answers with blob bytes so far. */
  public int served() {
    return served.get();
  }

  /** Answers 403 for an expired URL so far. */
  public int refused() {
    return refused.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      String query = exchange.getRequestURI().getQuery();
      String hex = path.substring(path.lastIndexOf('/') + 1);
      long expires = Long.parseLong(query.substring(query.indexOf('=') + 1));
      if (System.currentTimeMillis() > expires) {
        refused.incrementAndGet();
        byte[] body = "<Error><Code>AccessDenied</Code>Request has expired</Error>".getBytes();
        exchange.sendResponseHeaders(403, body.length);
        exchange.getResponseBody().write(body);
        return;
      }
      Path data =
          registryStorage.resolve(
              "docker/registry/v2/blobs/sha256/" + hex.substring(0, 2) + "/" + hex + "/data");
      if (!Files.isRegularFile(data)) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      long size = Files.size(data);
      String range = exchange.getRequestHeaders().getFirst("Range");
      Matcher match = range == null ? null : RANGE.matcher(range);
      long first = 0;
      long last = size - 1;
      int status = 200;
      if (match != null && match.matches()) {
        first = Long.parseLong(match.group(1));
        last = Math.min(size - 1, Long.parseLong(match.group(2)));
        status = 206;
        exchange
            .getResponseHeaders()
            .add("Content-Range", "bytes " + first + "-" + last + "/" + size);
      }
      byte[] body = new byte[(int) (last - first + 1)];
      try (var file = new RandomAccessFile(data.toFile(), "r")) {
        file.seek(first);
        file.readFully(body);
      }
      served.incrementAndGet();
      exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
      exchange.sendResponseHeaders(status, body.length);
      exchange.getResponseBody().write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
