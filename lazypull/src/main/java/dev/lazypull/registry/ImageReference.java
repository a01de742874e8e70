package dev.lazypull.registry;

import dev.lazypull.oci.Digest;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A parsed image reference {@code [host[:port]/]path[:tag][@digest]}. Docker Hub defaults apply: no
 * host means {@code docker.io}, a one-part Hub path gets {@code library/}, and no tag and no digest
 * means {@code latest}.
 *
 * @param registry the registry as the user names it ({@code docker.io}, {@code 127.0.0.1:5000})
 * @param repository the repository path ({@code library/debian})
 * @param tag the tag, or null when only a digest was given
 * @param digest the digest, or null
 */
public record ImageReference(
    String registry, String repository, @Nullable String tag, @Nullable Digest digest) {

  public static final String DOCKER_HUB = "docker.io";
  private static final String DOCKER_HUB_API = "registry-1.docker.io";
  private static final Pattern PATH_COMPONENT =
      Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final Pattern HOST =
      Pattern.compile("(?:[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*|\\[[0-9A-Fa-f:]+\\])(?::[0-9]+)?");

  public ImageReference {
    if (tag == null && digest == null) {
      tag = "latest";
    }
  }

  /** Parses a reference; IllegalArgumentException names the text and the expected form. */
  public static ImageReference parse(String text) {
    if (text.isBlank() || !text.strip().equals(text)) {
      throw malformed(text, "it is empty or has spaces");
    }
    String rest = text;
    Digest digest = null;
    int at = rest.indexOf('@');
    if (at >= 0) {
      digest = parseDigest(text, rest.substring(at + 1));
      rest = rest.substring(0, at);
    }
    String tag = null;
    int lastSlash = rest.lastIndexOf('/');
    int colon = rest.lastIndexOf(':');
    if (colon > lastSlash && !rest.endsWith("]")) {
      tag = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
      if (!TAG.matcher(tag).matches()) {
        throw malformed(text, "tag '" + tag + "' is not valid");
      }
    }
    return splitHost(text, rest, tag, digest);
  }

  private static ImageReference splitHost(
      String text, String name, @Nullable String tag, @Nullable Digest digest) {
    String registry = DOCKER_HUB;
    String path = name;
    int slash = name.indexOf('/');
    if (slash > 0 && looksLikeHost(name.substring(0, slash))) {
      registry = name.substring(0, slash);
      path = name.substring(slash + 1);
      if (!HOST.matcher(registry).matches()) {
        throw malformed(text, "registry host '" + registry + "' is not valid");
      }
    }
    if (registry.equals(DOCKER_HUB) || registry.equals("index.docker.io")) {
      registry = DOCKER_HUB;
      if (!path.contains("/")) {
        path = "library/" + path;
      }
    }
    for (String component : path.split("/", -1)) {
      if (!PATH_COMPONENT.matcher(component).matches()) {
        throw malformed(text, "repository path '" + path + "' is not valid (lower case a-z0-9._-)");
      }
    }
    return new ImageReference(registry, path, tag, digest);
  }

  private static boolean looksLikeHost(String first) {
    return first.contains(".")
        || first.contains(":")
        || first.equals("localhost")
        || first.startsWith("[");
  }

  private static Digest parseDigest(String text, String digestText) {
    try {
      return Digest.parse(digestText);
    } catch (IllegalArgumentException e) {
      throw malformed(text, "digest '" + digestText + "' is not sha256:<64 hex>");
    }
  }

  private static IllegalArgumentException malformed(String text, String why) {
    return new IllegalArgumentException(
        "not an image reference: '"
            + text
            + "': "
            + why
            + " (expected [host[:port]/]path[:tag][@sha256:<hex>], e.g. debian:12)");
  }

  /** The host[:port] the API is served from: Docker Hub's name differs from its API host. */
  public String apiHost() {
    return registry.equals(DOCKER_HUB) ? DOCKER_HUB_API : registry;
  }

  /** The tag or digest to ask the manifests endpoint for; the digest wins when both are given. */
  public String manifestReference() {
    if (digest != null) {
      return digest.toString();
    }
    return tag == null ? "latest" : tag;
  }

  /** The same repository with another tag or digest. */
  public ImageReference withDigest(Digest newDigest) {
    return new ImageReference(registry, repository, null, newDigest);
  }

  /** The same repository with another tag and no digest. */
  public ImageReference withTag(String newTag) {
    return new ImageReference(registry, repository, newTag, null);
  }

  @Override
  public String toString() {
    String text = registry + "/" + repository;
    if (tag != null) {
      text += ":" + tag;
    }
    if (digest != null) {
      text += "@" + digest;
    }
    return text;
  }
}
