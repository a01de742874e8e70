package dev.lazypull.registry;

import java.net.URI;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One place a registry's content is asked for, as containerd's hosts.toml describes it: a mirror
 * ({@code [host."URL"]}) or the registry's own server ({@code server}).
 *
 * @param url {@code scheme://host[:port][/path]}; null for a server that hosts.toml leaves out,
 *     which is the image's own registry (https, or http for loopback and insecure hosts)
 * @param capabilities what it may be asked for: resolve (tags to digests), pull, push
 * @param caFiles PEM files of CA certificates trusted for it besides the system ones
 * @param skipVerify whether its TLS certificate and host name go unchecked
 * @param overridePath whether the URL's path is the API root itself ({@code /v2} is not added)
 */
public record RegistryEndpoint(
    @Nullable URI url,
    Set<Capability> capabilities,
    List<Path> caFiles,
    boolean skipVerify,
    boolean overridePath) {

  /** What an endpoint may be trusted to do, as containerd's {@code capabilities} lists it. */
  public enum Capability {
    PULL,
    RESOLVE,
    PUSH;

    /** The word used in hosts.toml. */
    public String tomlName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public RegistryEndpoint {
    capabilities = Set.copyOf(capabilities);
    caFiles = List.copyOf(caFiles);
  }

  /** The image's own registry with every capability and the system's CAs. */
  public static RegistryEndpoint ownServer() {
    return new RegistryEndpoint(null, EnumSet.allOf(Capability.class), List.of(), false, false);
  }

  /** A mirror that may pull and resolve (containerd's "private mirror"), system CAs. */
  public static RegistryEndpoint mirror(URI url) {
    return new RegistryEndpoint(
        url, EnumSet.of(Capability.PULL, Capability.RESOLVE), List.of(), false, false);
  }

  public boolean can(Capability capability) {
    return capabilities.contains(capability);
  }

  /**
   * The base of the v2 API at {@code url}, ending in '/': the URL's path with {@code /v2} added
   * unless it ends so already or {@code override_path} is set, as containerd does.
   */
  static URI apiBase(URI url, boolean overridePath) {
    String path = url.getRawPath() == null ? "" : url.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (!overridePath && !path.endsWith("/v2")) {
      path += "/v2";
    }
    return URI.create(url.getScheme() + "://" + url.getRawAuthority() + path + "/");
  }
}
