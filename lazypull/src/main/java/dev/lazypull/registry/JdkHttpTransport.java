package dev.lazypull.registry;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.HttpURLConnection;
import java.net.http.HttpClient;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.HttpsURLConnection;
import org.jspecify.annotations.Nullable;

/**
 * The JDK's two HTTP clients, each where it is best. Reads (GET, HEAD) go through
 * HttpURLConnection, which fetched 1-4 MiB ranges from a loopback registry 2-3x faster than
 * java.net.http.HttpClient (see bench/registry-ranges.sh). Uploads go through HttpClient, because
 * HttpURLConnection cannot send PATCH, which chunked uploads need. Neither follows redirects: the
 * caller does, so that it can drop Authorization and cross between http and https.
 */
final class JdkHttpTransport implements HttpTransport {

  /** Slowest upload rate tolerated before an upload counts as hung. */
  private static final long MIN_UPLOAD_BYTES_PER_SECOND = 256 * 1024;

  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final HttpClient uploadClient;

  /** Upload clients of endpoints with their own TLS trust; HttpClient fixes it when built. */
  private final Map<TlsTrust, HttpClient> uploadClientsByTrust = new ConcurrentHashMap<>();

  private final LongAdder bytesReceived = new LongAdder();

  JdkHttpTransport(Duration connectTimeout, Duration readTimeout) {
    this.connectTimeout = connectTimeout;
    this.readTimeout = readTimeout;
    this.uploadClient = uploadClientBuilder().build();
  }

  private HttpClient.Builder uploadClientBuilder() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(connectTimeout);
  }

  private HttpClient uploadClient(@Nullable TlsTrust trust) {
    if (trust == null) {
      return uploadClient;
    }
    return uploadClientsByTrust.computeIfAbsent(
        trust, t -> uploadClientBuilder().sslContext(t.context()).build());
  }

  @Override
  public long bytesReceived() {
    return bytesReceived.sum();
  }

  @Override
  public HttpResponse send(HttpRequest request) throws IOException {
    if (request.method().equals("GET") || request.method().equals("HEAD")) {
      return sendRead(request);
    }
    return sendUpload(request);
  }

  private HttpResponse sendRead(HttpRequest request) throws IOException {
    var connection = (HttpURLConnection) request.uri().toURL().openConnection();
    connection.setInstanceFollowRedirects(false);
    connection.setConnectTimeout((int) connectTimeout.toMillis());
    connection.setReadTimeout((int) readTimeout.toMillis());
    connection.setUseCaches(false);
    TlsTrust trust = request.tls();
    if (trust != null && connection instanceof HttpsURLConnection https) {
      https.setSSLSocketFactory(trust.socketFactory());
      https.setHostnameVerifier(trust.hostnameVerifier());
    }
    connection.setRequestMethod(request.method());
    request.headers().forEach(connection::setRequestProperty);
    int status = connection.getResponseCode();
    InputStream body = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
    return new HttpResponse(request.uri(), status, connection.getHeaderFields(), counted(body));
  }

  private HttpResponse sendUpload(HttpRequest request) throws IOException {
    RequestBody body = request.body();
    long length = body == null ? 0 : body.length();
    var builder =
        java.net.http.HttpRequest.newBuilder(request.uri())
            .timeout(readTimeout.plusSeconds(length / MIN_UPLOAD_BYTES_PER_SECOND))
            .method(request.method(), publisher(body));
    request.headers().forEach(builder::header);
    try {
      var response =
          uploadClient(request.tls()).send(builder.build(), BodyHandlers.ofInputStream());
      return new HttpResponse(
          request.uri(), response.statusCode(), response.headers().map(), counted(response.body()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted: " + request);
    }
  }

  private static BodyPublisher publisher(@Nullable RequestBody body) {
    if (body == null || body.length() == 0) {
      return BodyPublishers.noBody();
    }
    var stream =
        BodyPublishers.ofInputStream(
            () -> {
              try {
                return body.open();
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    return BodyPublishers.fromPublisher(stream, body.length());
  }

  private InputStream counted(@Nullable InputStream body) {
    if (body == null) {
      return InputStream.nullInputStream();
    }
    return new FilterInputStream(body) {
      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
          bytesReceived.increment();
        }
        return b;
      }

      @Override
      public int read(byte[] buffer, int offset, int count) throws IOException {
        int n = super.read(buffer, offset, count);
        if (n > 0) {
          bytesReceived.add(n);
        }
        return n;
      }

      @Override
      public long skip(long count) throws IOException {
        long n = super.skip(count);
        bytesReceived.add(n);
        return n;
      }
    };
  }
}
