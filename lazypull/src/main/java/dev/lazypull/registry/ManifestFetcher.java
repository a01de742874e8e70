package dev.lazypull.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageIndex;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import dev.lazypull.oci.Platform;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Fetches manifests and indexes, verifies their digests and resolves indexes to a platform. */
final class ManifestFetcher {

  /** Registries cap manifests at 4 MiB; anything bigger is not a manifest. */
  static final int MAX_MANIFEST_BYTES = 4 << 20;

  /** Times a manifest is asked for when its answer breaks off in the middle of the body. */
  private static final int BODY_ATTEMPTS = 3;

  private static final Logger log = LoggerFactory.getLogger(ManifestFetcher.class);

  private static final String ACCEPT =
      String.join(
          ", ",
          MediaTypes.OCI_INDEX,
          MediaTypes.OCI_MANIFEST,
          MediaTypes.DOCKER_LIST,
          MediaTypes.DOCKER_MANIFEST);

  private final RequestSender sender;
  private final Endpoints endpoints;
  private final EndpointFallback fallback;

  ManifestFetcher(RequestSender sender, Endpoints endpoints, EndpointFallback fallback) {
    this.sender = sender;
    this.endpoints = endpoints;
    this.fallback = fallback;
  }

  FetchedManifest fetch(ImageReference reference) throws RegistryException {
    String action = "fetch manifest " + reference;
    // A tag is resolved only where that is trusted; by digest the bytes are checked, so any
    // mirror that may pull can serve it.
    var needed = reference.digest() == null ? EndpointFallback.RESOLVE : EndpointFallback.PULL;
    return fallback.first(
        reference, needed, action, (at, atAction) -> fetchAt(reference, at, atAction));
  }

  private FetchedManifest fetchAt(ImageReference reference, ImageRegistry registry, String action)
      throws RegistryException {
    var exchange =
        new Exchange(
            registry,
            action,
            Endpoints.pullScope(reference),
            HttpRequest.get(
                endpoints.manifest(registry, reference, reference.manifestReference()),
                Map.of("Accept", ACCEPT)),
            RequestSender.statuses(200),
            "check the repository name and tag (e.g. with skopeo list-tags), or log in if it is"
                + " private",
            true);
    for (int attempt = 1; ; attempt++) {
      String contentType;
      byte[] bytes;
      try (HttpResponse response = sender.send(exchange)) {
        contentType = response.header("Content-Type");
        bytes = response.bodyBytes(MAX_MANIFEST_BYTES + 1);
        checkLength(response, bytes);
      } catch (IOException e) {
        // The sender retries failed requests, not answers whose body breaks off afterwards.
        if (attempt == BODY_ATTEMPTS) {
          throw new RegistryUnavailableException(
              action
                  + ": the answer broke off "
                  + attempt
                  + " times ("
                  + e.getMessage()
                  + "); check that the registry is up and reachable",
              e);
        }
        log.info("{}: the answer broke off ({}); asking again", action, e.getMessage());
        continue;
      }
      if (bytes.length > MAX_MANIFEST_BYTES) {
        throw new RegistryProtocolException(action + ": larger than 4 MiB, not a manifest");
      }
      return parse(reference, bytes, contentType, action);
    }
  }

  /** A body shorter than its Content-Length was cut off: some connections end without an error. */
  private static void checkLength(HttpResponse response, byte[] bytes) throws IOException {
    String announced = response.header("Content-Length");
    if (announced == null || bytes.length > MAX_MANIFEST_BYTES) {
      return;
    }
    try {
      if (Long.parseLong(announced.strip()) != bytes.length) {
        throw new IOException("got " + bytes.length + " of " + announced.strip() + " bytes");
      }
    } catch (NumberFormatException e) {
      // An unreadable Content-Length is the transport's business; the digest checks the bytes.
    }
  }

  ResolvedImage resolve(ImageReference reference, Platform platform) throws RegistryException {
    FetchedManifest top = fetch(reference);
    if (!top.isIndex()) {
      return new ResolvedImage(reference, top, null, platform);
    }
    Descriptor chosen = top.index().manifestFor(platform).orElse(null);
    if (chosen == null) {
      throw new NotFoundException(
          "resolve "
              + reference
              + " for "
              + platform
              + ": the image has no manifest for that platform (it has "
              + platformsOf(top.index())
              + "); choose one of those platforms");
    }
    FetchedManifest image = fetch(reference.withDigest(chosen.digest()));
    if (image.isIndex()) {
      throw new RegistryProtocolException(
          "resolve " + reference + ": the index entry for " + platform + " is another index");
    }
    return new ResolvedImage(reference, image, top, platform);
  }

  static FetchedManifest parse(
      ImageReference reference, byte[] bytes, @Nullable String contentType, String action)
      throws RegistryException {
    Digest actual = Digest.sha256(bytes);
    Digest expected = reference.digest();
    if (expected != null && !expected.equals(actual)) {
      throw new DigestMismatchException(action, expected, actual);
    }
    try {
      String mediaType = mediaTypeOf(bytes, contentType);
      if (MediaTypes.isIndex(mediaType)) {
        ImageIndex index = OciJson.read(bytes, ImageIndex.class);
        return new FetchedManifest(reference, actual, mediaType, bytes, null, index);
      }
      if (!mediaType.equals(MediaTypes.OCI_MANIFEST)
          && !mediaType.equals(MediaTypes.DOCKER_MANIFEST)) {
        throw new RegistryProtocolException(
            action + ": unsupported manifest type " + mediaType + "; convert the image to OCI");
      }
      ImageManifest manifest = OciJson.read(bytes, ImageManifest.class);
      return new FetchedManifest(reference, actual, mediaType, bytes, manifest, null);
    } catch (IOException | RuntimeException e) {
      throw new RegistryProtocolException(action + ": not a valid manifest: " + e.getMessage(), e);
    }
  }

  /** The JSON's own mediaType beats Content-Type, which some registries send generically. */
  private static String mediaTypeOf(byte[] bytes, @Nullable String contentType) throws IOException {
    JsonNode root = OciJson.MAPPER.readTree(bytes);
    String declared = root.path("mediaType").asText("");
    if (!declared.isEmpty()) {
      return declared;
    }
    String header = contentType == null ? "" : contentType.split(";")[0].strip();
    if (header.startsWith("application/vnd.")) {
      return header;
    }
    return root.has("manifests") ? MediaTypes.OCI_INDEX : MediaTypes.OCI_MANIFEST;
  }

  private static String platformsOf(ImageIndex index) {
    List<String> platforms =
        index.manifests().stream()
            .map(Descriptor::platform)
            .filter(p -> p != null)
            .map(String::valueOf)
            .distinct()
            .collect(Collectors.toList());
    return platforms.isEmpty() ? "no platform entries" : String.join(", ", platforms);
  }
}
