package dev.lazypull.registry;

import java.net.URI;
import org.jspecify.annotations.Nullable;

/**
 * One endpoint a request goes to: the image's own registry or a mirror from the hosts config.
 *
 * @param name the key for credentials and messages: the name the user wrote for the image's own
 *     registry ({@code docker.io}), {@code host[:port]} for a mirror
 * @param apiHost the {@code host[:port]} serving the API (key for auth challenges and tokens)
 * @param apiBase the base of the v2 API, ending in '/' ({@code https://host/v2/})
 * @param tls the endpoint's own TLS trust, or null for the JDK's defaults
 * @param source the hosts.toml (or config) that named this endpoint, or null without one
 * @param hasFallback whether another endpoint is tried when this one fails: then a request is sent
 *     once, not retried, as containerd moves on to the next host
 * @param configuredUrl whether its URL comes from the config (a mirror, or a server URL) rather
 *     than from the image reference
 */
record ImageRegistry(
    String name,
    String apiHost,
    URI apiBase,
    @Nullable TlsTrust tls,
    @Nullable String source,
    boolean hasFallback,
    boolean configuredUrl) {

  /** The image's own registry without configuration: https, http for loopback or insecure. */
  static ImageRegistry plain(String name, String apiHost, boolean plainHttp) {
    return new ImageRegistry(
        name,
        apiHost,
        URI.create((plainHttp ? "http" : "https") + "://" + apiHost + "/v2/"),
        null,
        null,
        false,
        false);
  }

  /** " via URL" for URLs from the hosts config, so that messages name the endpoint tried. */
  String via() {
    return configuredUrl ? " via " + apiBase : "";
  }

  ImageRegistry withoutFallback() {
    return new ImageRegistry(name, apiHost, apiBase, tls, source, false, configuredUrl);
  }

  static boolean isLoopback(String host) {
    String bare = host.startsWith("[") ? host.substring(0, host.indexOf(']') + 1) : host;
    int colon = bare.startsWith("[") ? -1 : bare.lastIndexOf(':');
    String hostOnly = colon < 0 ? bare : bare.substring(0, colon);
    return hostOnly.equals("localhost")
        || hostOnly.equals("127.0.0.1")
        || hostOnly.equals("[::1]")
        || hostOnly.equals("::1");
  }
}
