package dev.lazypull.registry;

import java.net.URI;

/**
 * A registry as the client talks to it: the name the user wrote (key for credentials), the host
 * that serves the API, and whether it is spoken to over plain HTTP.
 */
record ImageRegistry(String name, String apiHost, boolean plainHttp) {

  /** The base URI of the v2 API, {@code https://host[:port]/v2/}. */
  URI apiBase() {
    return URI.create((plainHttp ? "http" : "https") + "://" + apiHost + "/v2/");
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
