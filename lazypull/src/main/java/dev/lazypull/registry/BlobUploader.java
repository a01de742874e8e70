package dev.lazypull.registry;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Uploads blobs: HEAD first to skip what is there, a cross-repository mount when another repository
 * of the same registry has it, then monolithic (POST, PUT) or chunked (POST, PATCH..., PUT) upload.
 */
final class BlobUploader {

  private static final String OCTET_STREAM = "application/octet-stream";

  private final RequestSender sender;
  private final Endpoints endpoints;
  private final BlobReader reader;

  BlobUploader(RequestSender sender, Endpoints endpoints, BlobReader reader) {
    this.sender = sender;
    this.endpoints = endpoints;
    this.reader = reader;
  }

  BlobPushOutcome push(
      ImageReference repository,
      Descriptor blob,
      RequestBody content,
      @Nullable String mountFrom,
      long chunkBytes)
      throws RegistryException {
    checkLength(blob, content);
    if (reader.exists(repository, blob.digest())) {
      return BlobPushOutcome.ALREADY_PRESENT;
    }
    String baseAction = "push blob " + blob.digest() + " to " + repository.repository();
    ImageRegistry registry = endpoints.pushTarget(repository, baseAction);
    String action = baseAction + registry.via();
    URI session = startSession(registry, repository, blob.digest(), mountFrom, action);
    if (session == null) {
      return BlobPushOutcome.MOUNTED;
    }
    if (chunkBytes > 0 && chunkBytes < content.length()) {
      session = sendChunks(registry, repository, session, content, chunkBytes, action);
      finish(registry, repository, session, blob.digest(), RequestBody.of(new byte[0]), action);
    } else {
      finish(registry, repository, session, blob.digest(), content, action);
    }
    return BlobPushOutcome.UPLOADED;
  }

  /** Opens an upload session; null when the mount request linked the blob instead. */
  private @Nullable URI startSession(
      ImageRegistry registry,
      ImageReference repository,
      Digest digest,
      @Nullable String mountFrom,
      String action)
      throws RegistryException {
    URI uri =
        mountFrom == null
            ? endpoints.uploads(registry, repository)
            : endpoints.mount(registry, repository, digest, mountFrom);
    String scope = Endpoints.pushScope(repository);
    if (mountFrom != null) {
      scope += " repository:" + mountFrom + ":pull";
    }
    // A registry that cannot mount (blob absent there, or no access) answers 202 and an
    // ordinary upload session, so the fallback to uploading costs nothing extra.
    HttpResponse response =
        sender.send(
            new Exchange(
                registry,
                action,
                scope,
                new HttpRequest("POST", uri, Map.of(), RequestBody.of(new byte[0])),
                RequestSender.statuses(201, 202),
                "check the repository name",
                false));
    RequestSender.closeQuietly(response);
    if (response.status() == 201) {
      return null;
    }
    return location(response, action);
  }

  private URI sendChunks(
      ImageRegistry registry,
      ImageReference repository,
      URI session,
      RequestBody content,
      long chunkBytes,
      String action)
      throws RegistryException {
    for (long chunkOffset = 0; chunkOffset < content.length(); chunkOffset += chunkBytes) {
      long chunkLength = Math.min(chunkBytes, content.length() - chunkOffset);
      RequestBody chunk = slice(content, chunkOffset, chunkLength);
      // Distribution's Content-Range for uploads has no "bytes " prefix: "start-end".
      HttpRequest patch =
          new HttpRequest(
              "PATCH",
              session,
              Map.of(
                  "Content-Type",
                  OCTET_STREAM,
                  "Content-Range",
                  chunkOffset + "-" + (chunkOffset + chunkLength - 1)),
              chunk);
      HttpResponse response =
          sender.send(
              new Exchange(
                  registry,
                  action + " (chunk at " + chunkOffset + ")",
                  Endpoints.pushScope(repository),
                  patch,
                  RequestSender.statuses(202),
                  "the upload session expired; push again",
                  false));
      RequestSender.closeQuietly(response);
      session = location(response, action);
    }
    return session;
  }

  private void finish(
      ImageRegistry registry,
      ImageReference repository,
      URI session,
      Digest digest,
      RequestBody body,
      String action)
      throws RegistryException {
    String separator = session.getRawQuery() == null ? "?" : "&";
    URI put = URI.create(session + separator + "digest=" + Endpoints.encode(digest.toString()));
    HttpResponse response =
        sender.send(
            new Exchange(
                registry,
                action,
                Endpoints.pushScope(repository),
                new HttpRequest("PUT", put, Map.of("Content-Type", OCTET_STREAM), body),
                RequestSender.statuses(201),
                "the upload session expired; push again",
                false));
    RequestSender.closeQuietly(response);
  }

  private static URI location(HttpResponse response, String action) throws RegistryException {
    String location = response.header("Location");
    if (location == null) {
      throw new RegistryProtocolException(
          action + ": the registry answered " + response.status() + " without a Location");
    }
    return response.uri().resolve(location);
  }

  private static void checkLength(Descriptor blob, RequestBody content) {
    if (content.length() != blob.size()) {
      throw new IllegalArgumentException(
          "blob "
              + blob.digest()
              + " has "
              + content.length()
              + " bytes, descriptor says "
              + blob.size());
    }
  }

  private static RequestBody slice(RequestBody content, long sliceOffset, long sliceLength) {
    return new RequestBody() {
      @Override
      public long length() {
        return sliceLength;
      }

      @Override
      public InputStream open() throws IOException {
        InputStream in = content.open();
        in.skipNBytes(sliceOffset);
        return new BoundedInputStream(in, sliceLength);
      }
    };
  }
}
