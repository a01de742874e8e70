package dev.lazypull.registry;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads blobs: whole (digest verified while streaming) or a byte range of one. */
final class BlobReader {

  private static final Logger log = LoggerFactory.getLogger(BlobReader.class);
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
  private static final Pattern BOUNDARY =
      Pattern.compile("boundary=\\x22?([^\\x22;]+)", Pattern.CASE_INSENSITIVE);
  private static final int MAX_PART_HEADER_LINES = 64;
  private static final int BUFFER_BYTES = 64 * 1024;

  /** Resumptions of one broken whole-blob download before giving up. */
  private static final int MAX_RESUMES = 3;

  private final RequestSender sender;
  private final Endpoints endpoints;
  private final boolean allowFullDownloadForRanges;

  private final EndpointFallback fallback;

  /** Endpoints (API bases) that answered a range request with the whole blob. */
  private final Set<URI> rangelessEndpoints = ConcurrentHashMap.newKeySet();

  BlobReader(
      RequestSender sender,
      Endpoints endpoints,
      EndpointFallback fallback,
      boolean allowFullDownloadForRanges) {
    this.sender = sender;
    this.endpoints = endpoints;
    this.fallback = fallback;
    this.allowFullDownloadForRanges = allowFullDownloadForRanges;
  }

  /** Whether the blob is where pushes to the repository go (the first endpoint that may push). */
  boolean exists(ImageReference repository, Digest digest) throws RegistryException {
    String action = "check blob " + digest.shortHex() + " in " + repository.repository();
    ImageRegistry registry = endpoints.pushTarget(repository, action);
    var exchange =
        new Exchange(
            registry,
            action + registry.via(),
            Endpoints.pullScope(repository),
            new HttpRequest("HEAD", endpoints.blob(registry, repository, digest), Map.of(), null),
            RequestSender.statuses(200, 404),
            "",
            true);
    HttpResponse response = sender.send(exchange);
    RequestSender.closeQuietly(response);
    return response.status() == 200;
  }

  void fetch(ImageReference repository, Descriptor blob, OutputStream out)
      throws RegistryException, IOException {
    Opened opened =
        fallback.first(
            repository,
            EndpointFallback.PULL,
            "fetch blob " + blob.digest() + " of " + repository,
            (at, atAction) ->
                new Opened(
                    at, atAction, sender.send(get(repository, at, blob.digest(), atAction))));
    // The rest of a broken download comes from the endpoint that sent its start.
    String action = opened.action();
    MessageDigest hasher = Digest.newSha256();
    long received = 0;
    HttpResponse response = opened.response();
    for (int resumes = 0; ; resumes++) {
      try (HttpResponse current = response) {
        received += copy(current.body(), out, hasher, blob.size() + 1 - received);
        break;
      } catch (BodyReadException e) {
        received += e.copied;
        if (resumes == MAX_RESUMES || received >= blob.size()) {
          throw new RegistryUnavailableException(
              action
                  + ": the download broke off after "
                  + received
                  + " bytes ("
                  + e.getCause()
                  + "); try again",
              e);
        }
        log.info(
            "{}: broke off after {} bytes ({}); resuming",
            action,
            received,
            String.valueOf(e.getCause()));
        response = resumeAt(repository, opened.endpoint(), blob, received, action);
      }
    }
    if (received != blob.size()) {
      throw new RegistryProtocolException(
          action + ": got " + received + " bytes, the descriptor says " + blob.size());
    }
    Digest actual = Digest.fromSha256(hasher.digest());
    if (!actual.equals(blob.digest())) {
      throw new DigestMismatchException(action, blob.digest(), actual);
    }
  }

  private record Opened(ImageRegistry endpoint, String action, HttpResponse response) {}

  /** Asks for the rest of a blob from {@code blobOffset} on, so a broken download goes on. */
  private HttpResponse resumeAt(
      ImageReference repository,
      ImageRegistry registry,
      Descriptor blob,
      long blobOffset,
      String action)
      throws RegistryException {
    long lastByte = blob.size() - 1;
    HttpResponse response =
        sender.send(
            new Exchange(
                registry,
                action,
                Endpoints.pullScope(repository),
                HttpRequest.get(
                    endpoints.blob(registry, repository, blob.digest()),
                    Map.of(
                        "Range",
                        "bytes=" + blobOffset + "-" + lastByte,
                        "Accept-Encoding",
                        "identity")),
                RequestSender.statuses(200, 206),
                "the blob is gone from the registry; was the image deleted or re-pushed?",
                true));
    if (response.status() == 206) {
      // Checks Content-Range; the body then holds exactly the rest.
      partialBody(response, blobOffset, lastByte, action);
      return response;
    }
    try {
      response.body().skipNBytes(blobOffset);
      return response;
    } catch (IOException e) {
      RequestSender.closeQuietly(response);
      throw new RegistryUnavailableException(action + ": the download broke off again: " + e, e);
    }
  }

  /** Downloads into a temporary file next to {@code target}, moved there only once verified. */
  void fetch(ImageReference repository, Descriptor blob, Path target)
      throws RegistryException, IOException {
    Path parent = target.toAbsolutePath().getParent();
    Path partial = Files.createTempFile(parent, target.getFileName() + ".", ".partial");
    try {
      try (OutputStream out = Files.newOutputStream(partial)) {
        fetch(repository, blob, out);
      }
      Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(partial);
    }
  }

  /**
   * Opens bytes [{@code offset}, {@code offset + length}) of a blob, clamped to its size. The
   * stream yields exactly that many bytes or fails; it must be closed.
   */
  InputStream openRange(
      ImageReference repository, Digest digest, long blobSize, long offset, long length)
      throws RegistryException {
    if (offset < 0 || length <= 0 || offset >= blobSize) {
      throw new IllegalArgumentException(
          "range at "
              + offset
              + " length "
              + length
              + " is outside blob of "
              + blobSize
              + " bytes");
    }
    // Never ask past the end: Debian's registry then answers with a wrong Content-Length.
    long lastByte = Math.min(offset + length, blobSize) - 1;
    String action =
        "read bytes " + offset + "-" + lastByte + " of blob " + digest + " of " + repository;
    return fallback.first(
        repository,
        EndpointFallback.PULL,
        action,
        (at, atAction) -> openRangeAt(at, repository, digest, offset, lastByte, atAction));
  }

  private InputStream openRangeAt(
      ImageRegistry registry,
      ImageReference repository,
      Digest digest,
      long offset,
      long lastByte,
      String action)
      throws RegistryException {
    if (rangelessEndpoints.contains(registry.apiBase())) {
      return wholeBlobFrom(registry, repository, digest, offset, lastByte, action);
    }
    HttpResponse response =
        sender.send(
            new Exchange(
                registry,
                action,
                Endpoints.pullScope(repository),
                HttpRequest.get(
                    endpoints.blob(registry, repository, digest),
                    Map.of(
                        "Range",
                        "bytes=" + offset + "-" + lastByte,
                        "Accept-Encoding",
                        "identity")),
                RequestSender.statuses(200, 206),
                "the blob is gone from the registry; was the image deleted or re-pushed?",
                true));
    if (response.status() == 206) {
      return partialBody(response, offset, lastByte, action);
    }
    markRangeless(registry, digest, response);
    return skipTo(response, offset, lastByte, action);
  }

  private InputStream partialBody(HttpResponse response, long offset, long lastByte, String action)
      throws RegistryException {
    String contentType = response.header("Content-Type");
    if (contentType != null
        && contentType.strip().toLowerCase(Locale.ROOT).startsWith("multipart/byteranges")) {
      return onlyPart(response, contentType, offset, lastByte, action);
    }
    String contentRange = response.header("Content-Range");
    Matcher match = contentRange == null ? null : CONTENT_RANGE.matcher(contentRange.strip());
    if (match == null
        || !match.matches()
        || Long.parseLong(match.group(1)) != offset
        || Long.parseLong(match.group(2)) != lastByte) {
      RequestSender.closeQuietly(response);
      throw new RegistryProtocolException(
          action + ": the registry answered 206 with Content-Range '" + contentRange + "'");
    }
    return new BoundedInputStream(response.body(), lastByte - offset + 1);
  }

  /**
   * The body of the one part of a {@code multipart/byteranges} answer to a single range: RFC 9110
   * lets a server answer so (some object stores and proxies do), with the Content-Range in the
   * part's headers instead of the answer's. The part must hold exactly the range asked for.
   */
  private InputStream onlyPart(
      HttpResponse response, String contentType, long offset, long lastByte, String action)
      throws RegistryException {
    Matcher boundary = BOUNDARY.matcher(contentType);
    try {
      if (!boundary.find()) {
        throw new IOException("no boundary in Content-Type '" + contentType + "'");
      }
      String delimiter = "--" + boundary.group(1);
      InputStream body = response.body();
      String line;
      int lines = 0;
      do {
        line = readLine(body);
        if (line == null || ++lines > MAX_PART_HEADER_LINES) {
          throw new IOException("no part starts with " + delimiter);
        }
      } while (!line.strip().equals(delimiter));
      String partRange = null;
      for (line = readLine(body); line != null && !line.isEmpty(); line = readLine(body)) {
        if (++lines > MAX_PART_HEADER_LINES) {
          throw new IOException("the part's headers do not end");
        }
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase("Content-Range")) {
          partRange = line.substring(colon + 1).strip();
        }
      }
      Matcher match = partRange == null ? null : CONTENT_RANGE.matcher(partRange);
      if (match == null
          || !match.matches()
          || Long.parseLong(match.group(1)) != offset
          || Long.parseLong(match.group(2)) != lastByte) {
        throw new IOException("its part has Content-Range '" + partRange + "'");
      }
      return new BoundedInputStream(body, lastByte - offset + 1);
    } catch (IOException e) {
      RequestSender.closeQuietly(response);
      throw new RegistryProtocolException(
          action + ": the registry answered multipart/byteranges that cannot be used: " + e);
    }
  }

  /** One CRLF- or LF-terminated line, read byte by byte so no body byte is consumed; or null. */
  private static @Nullable String readLine(InputStream in) throws IOException {
    var line = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      if (line.length() > 8192) {
        throw new IOException("a part header line is too long");
      }
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return b < 0 && line.isEmpty() ? null : line.toString();
  }

  private void markRangeless(ImageRegistry registry, Digest digest, HttpResponse response)
      throws RegistryException {
    if (!allowFullDownloadForRanges) {
      RequestSender.closeQuietly(response);
      throw new RangeUnsupportedException(
          "read a range of blob "
              + digest
              + ": registry "
              + registry.name()
              + " ignores Range and full downloads are turned off; allow them or use another"
              + " registry");
    }
    if (rangelessEndpoints.add(registry.apiBase())) {
      log.warn(
          "registry {} answered 200 to a range request for blob {}; falling back to full"
              + " downloads from this registry",
          registry.name(),
          digest);
    }
  }

  private InputStream wholeBlobFrom(
      ImageRegistry registry,
      ImageReference repository,
      Digest digest,
      long offset,
      long lastByte,
      String action)
      throws RegistryException {
    HttpResponse response = sender.send(get(repository, registry, digest, action));
    return skipTo(response, offset, lastByte, action);
  }

  private static InputStream skipTo(
      HttpResponse response, long offset, long lastByte, String action) throws RegistryException {
    try {
      response.body().skipNBytes(offset);
      return new BoundedInputStream(response.body(), lastByte - offset + 1);
    } catch (IOException e) {
      RequestSender.closeQuietly(response);
      throw new RegistryUnavailableException(action + ": the download broke off: " + e, e);
    }
  }

  private Exchange get(
      ImageReference repository, ImageRegistry registry, Digest digest, String action) {
    return new Exchange(
        registry,
        action,
        Endpoints.pullScope(repository),
        HttpRequest.get(endpoints.blob(registry, repository, digest), Map.of()),
        RequestSender.statuses(200),
        "the blob is gone from the registry; was the image deleted or re-pushed?",
        true);
  }

  /** Copies at most {@code limit} bytes; failures to read are told apart from failures to write. */
  private static long copy(InputStream in, OutputStream out, MessageDigest hasher, long limit)
      throws IOException {
    byte[] buffer = new byte[BUFFER_BYTES];
    long total = 0;
    while (total < limit) {
      int n;
      try {
        n = in.read(buffer, 0, (int) Math.min(buffer.length, limit - total));
      } catch (IOException e) {
        throw new BodyReadException(total, e);
      }
      if (n < 0) {
        break;
      }
      hasher.update(buffer, 0, n);
      out.write(buffer, 0, n);
      total += n;
    }
    return total;
  }

  /** Reading the registry's answer failed after {@code copied} bytes of this response. */
  private static final class BodyReadException extends IOException {
    private final long copied;

    BodyReadException(long copied, IOException cause) {
      super(cause);
      this.copied = copied;
    }
  }
}
