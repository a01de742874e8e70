package dev.lazypull.testing;

import dev.lazypull.registry.ImageReference;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HTTP proxy on a free 127.0.0.1 port in front of a registry (usually a {@link LocalRegistry})
 * that puts {@link Fault}s on the answers to chosen requests: the next N requests a matcher
 * accepts, or each such request with a given probability. Every request is forwarded to the
 * registry as it came (one request per connection, answered with {@code Connection: close}), and
 * the registry's answer is then changed as the fault says. {@link #clear()} ends every fault,
 * including stalls in progress, as when a network or a registry recovers.
 */
public final class FaultProxy implements AutoCloseable {

  /** What the proxy saw of one request. Header names are lower-case. */
  public record Request(String method, String path, Map<String, String> headers) {
    public String range() {
      return headers.get("range");
    }

    public boolean isBlobGet() {
      return method.equals("GET") && path.contains("/blobs/sha256:");
    }
  }

  /** Blob GETs (layer reads): the requests most faults are meant for. */
  public static Predicate<Request> blobGets() {
    return Request::isBlobGet;
  }

  /** GETs of one blob, by digest (e.g. {@code "sha256:ab..."}). */
  public static Predicate<Request> blobGetsOf(String digest) {
    return r -> r.isBlobGet() && r.path().contains("/blobs/" + digest);
  }

  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
  private static final Set<String> NOT_FORWARDED =
      Set.of(
          "connection",
          "content-length",
          "expect",
          "host",
          "upgrade",
          "date",
          "via",
          "warning",
          "from",
          "referer",
          "origin",
          "keep-alive",
          "transfer-encoding",
          "proxy-connection");

  private final ServerSocket listener;
  private final String upstream;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .followRedirects(HttpClient.Redirect.NEVER)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final List<Rule> rules = new CopyOnWriteArrayList<>();
  private final List<Request> seen = new CopyOnWriteArrayList<>();
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private final AtomicInteger injected = new AtomicInteger();
  private final AtomicLong generation = new AtomicLong();
  private final Thread acceptor;

  private FaultProxy(String upstreamHostPort) throws IOException {
    this.upstream = "http://" + upstreamHostPort;
    this.listener = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
    this.acceptor = Thread.ofVirtual().name("fault-proxy-accept").start(this::acceptLoop);
  }

  /** A proxy to the registry at {@code 127.0.0.1:port}. */
  public static FaultProxy to(int upstreamPort) throws IOException {
    return new FaultProxy("127.0.0.1:" + upstreamPort);
  }

  public String hostPort() {
    return "127.0.0.1:" + listener.getLocalPort();
  }

  /** A reference that goes through this proxy, e.g. {@code reference("app:1")}. */
  public ImageReference reference(String repositoryAndTag) {
    return ImageReference.parse(hostPort() + "/" + repositoryAndTag);
  }

  /** Puts {@code fault} on the next {@code times} requests that {@code matcher} accepts. */
  public FaultProxy inject(Fault fault, Predicate<Request> matcher, int times) {
    rules.add(new Rule(fault, matcher, new AtomicInteger(times), 1.0, new Random(0)));
    return this;
  }

  /** Puts {@code fault} on every request that {@code matcher} accepts, until {@link #clear()}. */
  public FaultProxy always(Fault fault, Predicate<Request> matcher) {
    return inject(fault, matcher, Integer.MAX_VALUE);
  }

  /** Puts {@code fault} on each accepted request with probability {@code rate} (seeded). */
  public FaultProxy atRate(Fault fault, Predicate<Request> matcher, double rate, long seed) {
    rules.add(
        new Rule(fault, matcher, new AtomicInteger(Integer.MAX_VALUE), rate, new Random(seed)));
    return this;
  }

  /** Ends every fault: stalled connections are closed and later requests pass unchanged. */
  public void clear() {
    rules.clear();
    generation.incrementAndGet();
  }

  /** How many answers a fault has changed so far. */
  public int injected() {
    return injected.get();
  }

  /** Every request seen, in order of arrival. */
  public List<Request> seen() {
    return List.copyOf(seen);
  }

  private record Rule(
      Fault fault,
      Predicate<Request> matcher,
      AtomicInteger remaining,
      double rate,
      Random random) {

    boolean take(Request request) {
      if (!matcher.test(request)) {
        return false;
      }
      if (fault instanceof Fault.RejectMultiRange
          && (request.range() == null || !request.range().contains(","))) {
        return false;
      }
      if (rate < 1.0) {
        synchronized (random) {
          if (random.nextDouble() >= rate) {
            return false;
          }
        }
      }
      return remaining.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
    }
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        open.add(client);
        Thread.ofVirtual().start(() -> serve(client));
      } catch (IOException e) {
        // Closed.
      }
    }
  }

  private void serve(Socket client) {
    try (client) {
      var in = new BufferedInputStream(client.getInputStream());
      Request request = readRequest(in);
      if (request == null) {
        return;
      }
      byte[] requestBody = readBody(in, request);
      seen.add(request);
      Fault fault = null;
      for (Rule rule : rules) {
        if (rule.take(request)) {
          fault = rule.fault();
          injected.incrementAndGet();
          break;
        }
      }
      answer(client, request, requestBody, fault);
    } catch (IOException | InterruptedException e) {
      // The client went away, or a fault closed the connection on purpose.
    } finally {
      open.remove(client);
    }
  }

  private void answer(Socket client, Request request, byte[] requestBody, Fault fault)
      throws IOException, InterruptedException {
    OutputStream out = client.getOutputStream();
    switch (fault) {
      case null -> write(out, request, forward(request, requestBody, false));
      case Fault.Stall stall -> stall(client, stall.duration());
      case Fault.Status status -> write(out, request, errorAnswer(status));
      case Fault.RejectMultiRange reject ->
          write(out, request, plain(400, "multiple ranges are not supported"));
      case Fault.IgnoreRange ignore -> write(out, request, forward(request, requestBody, true));
      case Fault.RedirectToExpiringUrl redirect -> {
        URI location = redirect.storage().urlFor(request.path(), redirect.urlLifetime());
        var headers = new TreeMap<String, String>();
        headers.put("Location", location.toString());
        write(out, request, new Answer(307, headers, new byte[0]));
      }
      case Fault.Multipart multipart ->
          write(out, request, multipart(forward(request, requestBody, false)));
      case Fault.CorruptSpan corrupt ->
          write(out, request, corrupt(forward(request, requestBody, false), corrupt));
      case Fault.ResetMidBody reset -> {
        Answer answer = forward(request, requestBody, false);
        writeHead(out, answer, answer.body().length);
        out.write(answer.body(), 0, answer.body().length / 2);
        out.flush();
        client.setSoLinger(true, 0); // close() now sends RST instead of FIN
      }
      case Fault.Truncate truncate -> {
        Answer answer = forward(request, requestBody, false);
        writeHead(out, answer, answer.body().length);
        out.write(answer.body(), 0, answer.body().length / 2);
        out.flush();
        client.shutdownOutput();
      }
    }
  }

  /** One answer to send: status, headers (without framing ones) and body. */
  private record Answer(int status, Map<String, String> headers, byte[] body) {}

  private Answer forward(Request request, byte[] body, boolean dropRange)
      throws IOException, InterruptedException {
    var builder =
        java.net.http.HttpRequest.newBuilder(URI.create(upstream + request.path()))
            .timeout(Duration.ofSeconds(30))
            .method(
                request.method(),
                body.length == 0
                    ? java.net.http.HttpRequest.BodyPublishers.noBody()
                    : java.net.http.HttpRequest.BodyPublishers.ofByteArray(body));
    request
        .headers()
        .forEach(
            (name, value) -> {
              if (!NOT_FORWARDED.contains(name) && !(dropRange && name.equals("range"))) {
                builder.header(name, value);
              }
            });
    var response = http.send(builder.build(), BodyHandlers.ofByteArray());
    return new Answer(response.statusCode(), keptHeaders(response.headers()), response.body());
  }

  private static Map<String, String> keptHeaders(HttpHeaders headers) {
    var kept = new TreeMap<String, String>(String.CASE_INSENSITIVE_ORDER);
    headers
        .map()
        .forEach(
            (name, values) -> {
              String lower = name.toLowerCase(Locale.ROOT);
              if (!NOT_FORWARDED.contains(lower) && !lower.startsWith(":")) {
                kept.put(name, String.join(", ", values));
              }
            });
    return kept;
  }

  private void stall(Socket client, Duration duration) throws InterruptedException {
    long gen = generation.get();
    long until = System.nanoTime() + duration.toNanos();
    while (System.nanoTime() < until && generation.get() == gen && !client.isClosed()) {
      Thread.sleep(20);
    }
  }

  private static Answer errorAnswer(Fault.Status status) {
    var headers = new TreeMap<String, String>();
    headers.put("Content-Type", "application/json");
    if (status.retryAfter() != null) {
      headers.put("Retry-After", status.retryAfter());
    }
    byte[] body =
        ("{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"injected "
                + status.status()
                + "\"}]}")
            .getBytes(StandardCharsets.UTF_8);
    return new Answer(status.status(), headers, body);
  }

  private static Answer plain(int status, String text) {
    var headers = new TreeMap<String, String>();
    headers.put("Content-Type", "text/plain");
    return new Answer(status, headers, text.getBytes(StandardCharsets.UTF_8));
  }

  /** The one range of a 206 answer as a multipart/byteranges body, as RFC 9110 §14.6 allows. */
  private static Answer multipart(Answer answer) {
    if (answer.status() != 206) {
      return answer;
    }
    String boundary = "LAZYPULL_FAULT_BOUNDARY";
    var headers = new TreeMap<String, String>(String.CASE_INSENSITIVE_ORDER);
    headers.putAll(answer.headers());
    String contentRange = headers.remove("Content-Range");
    String partType = headers.getOrDefault("Content-Type", "application/octet-stream");
    headers.put("Content-Type", "multipart/byteranges; boundary=" + boundary);
    var body = new ByteArrayOutputStream();
    String partHead =
        "\r\n--"
            + boundary
            + "\r\nContent-Type: "
            + partType
            + "\r\nContent-Range: "
            + contentRange
            + "\r\n\r\n";
    body.writeBytes(partHead.getBytes(StandardCharsets.US_ASCII));
    body.writeBytes(answer.body());
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    return new Answer(206, headers, body.toByteArray());
  }

  private static Answer corrupt(Answer answer, Fault.CorruptSpan span) {
    long bodyStart;
    if (answer.status() == 200) {
      bodyStart = 0;
    } else if (answer.status() == 206) {
      String contentRange = answer.headers().get("Content-Range");
      Matcher match = contentRange == null ? null : CONTENT_RANGE.matcher(contentRange);
      if (match == null || !match.matches()) {
        return answer;
      }
      bodyStart = Long.parseLong(match.group(1));
    } else {
      return answer;
    }
    byte[] body = answer.body().clone();
    long from = Math.max(span.blobOffset(), bodyStart);
    long to = Math.min(span.blobOffset() + span.length(), bodyStart + body.length);
    for (long blobOffset = from; blobOffset < to; blobOffset++) {
      body[(int) (blobOffset - bodyStart)] ^= (byte) 0x5a;
    }
    return new Answer(answer.status(), answer.headers(), body);
  }

  private static void write(OutputStream out, Request request, Answer answer) throws IOException {
    writeHead(out, answer, answer.body().length);
    if (!request.method().equals("HEAD")) {
      out.write(answer.body());
    }
    out.flush();
  }

  private static void writeHead(OutputStream out, Answer answer, long contentLength)
      throws IOException {
    var head = new StringBuilder();
    head.append("HTTP/1.1 ").append(answer.status()).append(' ').append(reason(answer.status()));
    head.append("\r\n");
    answer.headers().forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
    head.append("Content-Length: ").append(contentLength).append("\r\n");
    head.append("Connection: close\r\n\r\n");
    out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 206 -> "Partial Content";
      case 307 -> "Temporary Redirect";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 429 -> "Too Many Requests";
      case 500 -> "Internal Server Error";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      default -> "Status";
    };
  }

  private static Request readRequest(InputStream in) throws IOException {
    String requestLine = readLine(in);
    if (requestLine == null || requestLine.isEmpty()) {
      return null;
    }
    String[] parts = requestLine.split(" ");
    var headers = new TreeMap<String, String>();
    for (String line = readLine(in); line != null && !line.isEmpty(); line = readLine(in)) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        headers.put(
            line.substring(0, colon).strip().toLowerCase(Locale.ROOT),
            line.substring(colon + 1).strip());
      }
    }
    return new Request(parts[0], parts[1], headers);
  }

  private static byte[] readBody(InputStream in, Request request) throws IOException {
    String length = request.headers().get("content-length");
    if (length == null) {
      return new byte[0];
    }
    return in.readNBytes(Integer.parseInt(length));
  }

  private static String readLine(InputStream in) throws IOException {
    var line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      if (b == '\n') {
        break;
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    if (b < 0 && line.size() == 0) {
      return null;
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    clear();
    listener.close();
    for (Socket socket : new ArrayList<>(open)) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Already closed.
      }
    }
    acceptor.interrupt();
  }
}
