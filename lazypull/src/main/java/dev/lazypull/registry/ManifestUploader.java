package dev.lazypull.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageIndex;
import dev.lazypull.oci.OciJson;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Pushes manifests and tags; lists tags; asks the referrers API. */
final class ManifestUploader {

  private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");

  private final RequestSender sender;
  private final Endpoints endpoints;

  private final EndpointFallback fallback;

  ManifestUploader(RequestSender sender, Endpoints endpoints, EndpointFallback fallback) {
    this.sender = sender;
    this.endpoints = endpoints;
    this.fallback = fallback;
  }

  PushedManifest push(ImageReference target, String mediaType, byte[] bytes)
      throws RegistryException {
    Digest digest = Digest.sha256(bytes);
    Digest wanted = target.digest();
    String action = "push manifest " + digest.shortHex() + " to " + target;
    if (wanted != null && !wanted.equals(digest)) {
      throw new DigestMismatchException(action, wanted, digest);
    }
    ImageRegistry registry = endpoints.pushTarget(target, action);
    var exchange =
        new Exchange(
            registry,
            action + registry.via(),
            Endpoints.pushScope(target),
            new HttpRequest(
                "PUT",
                endpoints.manifest(registry, target, target.manifestReference()),
                Map.of("Content-Type", mediaType),
                RequestBody.of(bytes)),
            RequestSender.statuses(201),
            "push the blobs it names first",
            false);
    HttpResponse response = sender.send(exchange);
    RequestSender.closeQuietly(response);
    return new PushedManifest(digest, subjectOf(response, action));
  }

  /**
   * Deletes a manifest by digest (tags pointing at it go with it), e.g. to take back an object
   * pushed by a step that then failed. Deleting what is already gone is not an error.
   */
  void delete(ImageReference manifest) throws RegistryException {
    Digest digest = manifest.digest();
    if (digest == null) {
      throw new IllegalArgumentException("delete needs a manifest digest, not a tag: " + manifest);
    }
    String action = "delete manifest " + manifest;
    ImageRegistry registry = endpoints.pushTarget(manifest, action);
    var exchange =
        new Exchange(
            registry,
            action + registry.via(),
            "repository:" + manifest.repository() + ":delete",
            new HttpRequest(
                "DELETE",
                endpoints.manifest(registry, manifest, digest.toString()),
                Map.of(),
                null),
            RequestSender.statuses(202, 404),
            "",
            false);
    RequestSender.closeQuietly(sender.send(exchange));
  }

  private static @Nullable Digest subjectOf(HttpResponse response, String action)
      throws RegistryException {
    String subject = response.header("OCI-Subject");
    if (subject == null || subject.isBlank()) {
      return null;
    }
    try {
      return Digest.parse(subject.strip());
    } catch (IllegalArgumentException e) {
      throw new RegistryProtocolException(action + ": bad OCI-Subject header: " + subject);
    }
  }

  List<String> tags(ImageReference repository) throws RegistryException {
    return fallback.first(
        repository,
        EndpointFallback.RESOLVE,
        "list tags of " + repository.registry() + "/" + repository.repository(),
        (at, action) -> tags(at, repository, action));
  }

  private List<String> tags(ImageRegistry registry, ImageReference repository, String action)
      throws RegistryException {
    List<String> tags = new ArrayList<>();
    URI page = endpoints.tags(registry, repository);
    while (page != null) {
      var exchange =
          new Exchange(
              registry,
              action,
              Endpoints.pullScope(repository),
              HttpRequest.get(page, Map.of("Accept", "application/json")),
              RequestSender.statuses(200),
              "check the repository name",
              true);
      try (HttpResponse response = sender.send(exchange)) {
        JsonNode list = OciJson.MAPPER.readTree(response.bodyBytes(16 << 20));
        list.path("tags").forEach(tag -> tags.add(tag.asText()));
        page = nextPage(response);
      } catch (IOException e) {
        throw new RegistryUnavailableException(action + ": " + e.getMessage(), e);
      }
    }
    return tags;
  }

  /** Follows RFC 5988 {@code Link: <...>; rel="next"} pagination. */
  private static @Nullable URI nextPage(HttpResponse response) {
    for (String link : response.headers("Link")) {
      Matcher match = NEXT_LINK.matcher(link);
      if (match.find()) {
        return response.uri().resolve(match.group(1));
      }
    }
    return null;
  }

  /**
   * The referrers index of {@code subject}, or empty when the registry has no referrers API (404):
   * then the caller reads the {@code sha256-<hex>} tag instead.
   */
  Optional<ImageIndex> referrers(
      ImageReference repository, Digest subject, @Nullable String artifactType)
      throws RegistryException {
    return fallback.first(
        repository,
        EndpointFallback.PULL,
        "list referrers of " + subject + " in " + repository.repository(),
        (at, action) -> referrers(at, repository, subject, artifactType, action));
  }

  private Optional<ImageIndex> referrers(
      ImageRegistry registry,
      ImageReference repository,
      Digest subject,
      @Nullable String artifactType,
      String action)
      throws RegistryException {
    URI uri = endpoints.referrers(registry, repository, subject);
    if (artifactType != null) {
      uri = URI.create(uri + "?artifactType=" + Endpoints.encode(artifactType));
    }
    var exchange =
        new Exchange(
            registry,
            action,
            Endpoints.pullScope(repository),
            HttpRequest.get(uri, Map.of("Accept", dev.lazypull.oci.MediaTypes.OCI_INDEX)),
            RequestSender.statuses(200, 404),
            "",
            true);
    try (HttpResponse response = sender.send(exchange)) {
      if (response.status() == 404) {
        return Optional.empty();
      }
      ImageIndex index =
          OciJson.read(response.bodyBytes(ManifestFetcher.MAX_MANIFEST_BYTES), ImageIndex.class);
      if (artifactType != null && response.header("OCI-Filters-Applied") == null) {
        // The registry ignored the filter: apply it here.
        index =
            index.withManifests(
                index.manifests().stream()
                    .filter(d -> artifactType.equals(d.artifactType()))
                    .toList());
      }
      return Optional.of(index);
    } catch (IOException e) {
      throw new RegistryProtocolException(action + ": the answer is not an OCI index", e);
    }
  }

  /** The fallback tag for referrers of {@code subject}: {@code sha256-<hex>}. */
  static String referrersTag(Digest subject) {
    return subject.algorithm() + "-" + subject.hex();
  }
}
