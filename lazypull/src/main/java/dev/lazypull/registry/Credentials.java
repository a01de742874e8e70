package dev.lazypull.registry;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** A user name and a password or token. {@link #toString()} never shows the secret. */
public record Credentials(String username, String secret) {

  /** Parses {@code user:password} (the password may contain colons). */
  public static Credentials parse(String userColonSecret) {
    int colon = userColonSecret.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException(
          "credentials must be user:password (no ':' in the value given; the password is missing)");
    }
    if (colon == 0) {
      throw new IllegalArgumentException("credentials must be user:password (the user is missing)");
    }
    return new Credentials(
        userColonSecret.substring(0, colon), userColonSecret.substring(colon + 1));
  }

  /** The value of an {@code Authorization: Basic} header. */
  String basicHeader() {
    String pair = username + ":" + secret;
    return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "Credentials[username=" + username + ", secret=***]";
  }
}
