package dev.lazypull.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lazypull.oci.OciJson;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers registry challenges. Bearer registries get a token per scope from their realm (anonymous
 * or with Basic credentials), cached until it expires or a 401 says it has; htpasswd registries get
 * Basic credentials on every request once they have asked for them.
 */
final class Authenticator {

  /** Tokens without {@code expires_in} live 60 s, as the token spec says. */
  private static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofSeconds(60);

  private static final Logger log = LoggerFactory.getLogger(Authenticator.class);

  /** Sends a request to a token realm, with retries, mapping failures to exceptions. */
  @FunctionalInterface
  interface TokenRealmSender {
    HttpResponse send(String action, HttpRequest request) throws RegistryException;
  }

  private record Token(String value, Instant expiresAt) {
    @Override
    public String toString() {
      return "Token[expiresAt=" + expiresAt + "]";
    }
  }

  private final CredentialSource credentialSource;
  private final Clock clock;
  private final Map<String, AuthChallenge> challengeByHost = new ConcurrentHashMap<>();
  private final Map<String, Token> tokenByHostScope = new ConcurrentHashMap<>();
  private final Map<String, Optional<Credentials>> credentialsByHost = new ConcurrentHashMap<>();

  Authenticator(CredentialSource credentialSource, Clock clock) {
    this.credentialSource = credentialSource;
    this.clock = clock;
  }

  /**
   * The Authorization header for a request to {@code registry}, or null to go anonymous. Gets a
   * token first when the registry is known to want Bearer tokens and none is cached.
   */
  @Nullable String authorization(ImageRegistry registry, String scope, TokenRealmSender sender)
      throws RegistryException {
    AuthChallenge challenge = challengeByHost.get(registry.apiHost());
    if (challenge == null) {
      return null;
    }
    if (challenge.isBasic()) {
      return credentials(registry).map(Credentials::basicHeader).orElse(null);
    }
    Token token = tokenByHostScope.get(key(registry, scope));
    if (token == null || !clock.instant().isBefore(token.expiresAt())) {
      // The stored challenge came with another request: ask for this request's scope.
      token = fetchToken(registry, challenge, scope, scope, sender);
    }
    return "Bearer " + token.value();
  }

  /**
   * Learns from a 401 answer. Returns whether asking again can succeed: true when a new token was
   * fetched or Basic credentials are now known; false when the same credentials were already
   * refused or there are none to send.
   */
  boolean answer(
      ImageRegistry registry,
      @Nullable String wwwAuthenticate,
      String scope,
      @Nullable String sentAuthorization,
      TokenRealmSender sender)
      throws RegistryException {
    AuthChallenge challenge = AuthChallenge.parse(wwwAuthenticate);
    if (challenge == null || !(challenge.isBasic() || challenge.isBearer())) {
      return false;
    }
    challengeByHost.put(registry.apiHost(), challenge);
    if (challenge.isBasic()) {
      boolean sentBasic = sentAuthorization != null && sentAuthorization.startsWith("Basic ");
      return !sentBasic && credentials(registry).isPresent();
    }
    // A 401 to a token we sent means it expired or lacks the scope: fetch a fresh one.
    tokenByHostScope.remove(key(registry, scope));
    String challengeScope = challenge.parameter("scope");
    fetchToken(registry, challenge, scope, challengeScope != null ? challengeScope : scope, sender);
    return true;
  }

  /**
   * Gets a token for {@code requestedScopes} (space-separated; the registry's challenge may ask for
   * more than the request's own scope, e.g. a mount's source) and caches it for {@code scope}.
   */
  private Token fetchToken(
      ImageRegistry registry,
      AuthChallenge challenge,
      String scope,
      String requestedScopes,
      TokenRealmSender sender)
      throws RegistryException {
    String realm = challenge.parameter("realm");
    String action = "get a token for " + registry.name() + " (" + scope + ")";
    if (realm == null) {
      throw new RegistryProtocolException(action + ": the Bearer challenge names no realm");
    }
    Map<String, String> headers = new HashMap<>();
    credentials(registry).ifPresent(c -> headers.put("Authorization", c.basicHeader()));
    HttpRequest request =
        HttpRequest.get(tokenUri(realm, challenge, requestedScopes, action), headers);
    try (HttpResponse response = sender.send(action, request)) {
      Token token = parseToken(response.bodyBytes(1 << 20), action);
      tokenByHostScope.put(key(registry, scope), token);
      log.debug(
          "got a token for {} scope {}, valid until {}", registry.name(), scope, token.expiresAt());
      return token;
    } catch (IOException e) {
      throw new RegistryUnavailableException(action + ": " + e.getMessage(), e);
    }
  }

  private static URI tokenUri(
      String realm, AuthChallenge challenge, String requestedScopes, String action)
      throws RegistryException {
    StringBuilder query = new StringBuilder();
    String service = challenge.parameter("service");
    if (service != null) {
      query.append("service=").append(encode(service));
    }
    for (String oneScope : requestedScopes.split(" ")) {
      if (!oneScope.isBlank()) {
        query.append(query.isEmpty() ? "" : "&").append("scope=").append(encode(oneScope));
      }
    }
    try {
      return URI.create(realm + (realm.contains("?") ? "&" : "?") + query);
    } catch (IllegalArgumentException e) {
      throw new RegistryProtocolException(action + ": the token realm is not a URL: " + realm);
    }
  }

  private Token parseToken(byte[] body, String action) throws RegistryException {
    try {
      JsonNode answer = OciJson.MAPPER.readTree(body);
      String value = answer.path("token").asText(answer.path("access_token").asText(""));
      if (value.isEmpty()) {
        throw new RegistryProtocolException(action + ": the token answer holds no token");
      }
      long seconds = answer.path("expires_in").asLong(DEFAULT_TOKEN_LIFETIME.toSeconds());
      Duration lifetime = seconds > 0 ? Duration.ofSeconds(seconds) : DEFAULT_TOKEN_LIFETIME;
      return new Token(value, clock.instant().plus(lifetime));
    } catch (IOException e) {
      throw new RegistryProtocolException(action + ": the token answer is not JSON", e);
    }
  }

  private Optional<Credentials> credentials(ImageRegistry registry) throws RegistryException {
    Optional<Credentials> known = credentialsByHost.get(registry.name());
    if (known == null) {
      known = credentialSource.lookup(registry.name());
      credentialsByHost.put(registry.name(), known);
    }
    return known;
  }

  private static String key(ImageRegistry registry, String scope) {
    return registry.apiHost() + " " + scope;
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }
}
