package dev.lazypull.registry;

import java.io.IOException;
import java.net.URI;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one {@link Exchange}: adds credentials, answers auth challenges, follows redirects by hand,
 * retries as the {@link RetryPolicy} says and maps unwanted answers to exceptions.
 */
final class RequestSender {

  private static final int MAX_REDIRECTS = 5;
  private static final Logger log = LoggerFactory.getLogger(RequestSender.class);

  private final HttpTransport transport;
  private final Authenticator authenticator;
  private final RetryPolicy retryPolicy;

  RequestSender(HttpTransport transport, Authenticator authenticator, RetryPolicy retryPolicy) {
    this.transport = transport;
    this.authenticator = authenticator;
    this.retryPolicy = retryPolicy;
  }

  long bytesReceived() {
    return transport.bytesReceived();
  }

  /** Sends the exchange; the answer has one of its expected statuses, or this throws. */
  HttpResponse send(Exchange exchange) throws RegistryException {
    long startNanos = System.nanoTime();
    boolean challengeAnswered = false;
    // An endpoint with another after it is asked once: the next one is the retry (containerd).
    RetryPolicy policy = exchange.registry().hasFallback() ? RetryPolicy.NONE : retryPolicy;
    TlsTrust tls = exchange.registry().tls();
    Authenticator.TokenRealmSender realm =
        (action, tokenRequest) -> sendToRealm(action, tokenRequest.withTls(tls));
    for (int attempt = 1; ; attempt++) {
      String authorization =
          authenticator.authorization(exchange.registry(), exchange.scope(), realm);
      HttpRequest request = exchange.request().withTls(tls);
      if (authorization != null) {
        request = request.withHeader("Authorization", authorization);
      }
      HttpResponse response;
      try {
        response = sendFollowingRedirects(request, exchange.followRedirects());
      } catch (SSLException e) {
        throw tlsFailure(exchange, e);
      } catch (IOException e) {
        waitOrGiveUp(policy, exchange.action(), attempt, startNanos, null, describe(e), e);
        continue;
      }
      int status = response.status();
      if (status == 401) {
        String challenge = response.header("WWW-Authenticate");
        closeQuietly(response);
        if (!challengeAnswered
            && authenticator.answer(
                exchange.registry(), challenge, exchange.scope(), authorization, realm)) {
          challengeAnswered = true;
          attempt--;
          continue;
        }
        throw new UnauthorizedException(
            exchange.action()
                + ": the registry wants credentials (HTTP 401) and "
                + (authorization == null ? "none are configured" : "refused the ones sent")
                + "; run docker login for "
                + exchange.registry().name()
                + " or pass credentials");
      }
      if (RetryPolicy.isRetryableStatus(status) && !exchange.expectedStatuses().contains(status)) {
        String retryAfter = response.header("Retry-After");
        if (canRetry(policy, attempt, startNanos, retryAfter)) {
          closeQuietly(response);
          waitOrGiveUp(
              policy, exchange.action(), attempt, startNanos, retryAfter, "HTTP " + status, null);
          continue;
        }
      }
      if (exchange.expectedStatuses().contains(status)) {
        return response;
      }
      throw RegistryErrors.toException(exchange.action(), response, exchange.notFoundHint());
    }
  }

  /**
   * Follows redirects without Authorization (storage hosts must not see the registry's credentials)
   * and across http and https, which HttpURLConnection refuses to do. Presigned storage URLs
   * expire: a 403 from a redirect target means the redirect is resolved again, once.
   */
  private HttpResponse sendFollowingRedirects(HttpRequest registryRequest, boolean follow)
      throws IOException {
    HttpResponse response = transport.send(registryRequest);
    boolean reResolved = false;
    boolean fromRedirectTarget = false;
    int hops = 0;
    while (follow) {
      if (response.isRedirect()) {
        if (++hops > MAX_REDIRECTS) {
          return response;
        }
        URI target = redirectTarget(response);
        closeQuietly(response);
        log.debug("following redirect of {} to host {}", registryRequest, target.getHost());
        response = transport.send(registryRequest.redirectedTo(target));
        fromRedirectTarget = true;
      } else if (response.status() == 403 && fromRedirectTarget && !reResolved) {
        closeQuietly(response);
        log.debug("redirect target refused {} (expired URL?); resolving again", registryRequest);
        reResolved = true;
        fromRedirectTarget = false;
        response = transport.send(registryRequest);
      } else {
        return response;
      }
    }
    return response;
  }

  private static URI redirectTarget(HttpResponse response) throws IOException {
    String location = response.header("Location");
    if (location == null) {
      throw new IOException("redirect " + response.status() + " without Location");
    }
    return response.uri().resolve(location);
  }

  private static boolean canRetry(
      RetryPolicy policy, int attempt, long startNanos, @Nullable String retryAfter) {
    return policy.delayBeforeNext(attempt, elapsedSince(startNanos), retryAfter).isPresent();
  }

  private static void waitOrGiveUp(
      RetryPolicy policy,
      String action,
      int attempt,
      long startNanos,
      @Nullable String retryAfter,
      String failure,
      @Nullable IOException cause)
      throws RegistryException {
    Optional<Duration> delay =
        policy.delayBeforeNext(attempt, elapsedSince(startNanos), retryAfter);
    if (delay.isEmpty()) {
      String message =
          action
              + ": "
              + failure
              + " after "
              + attempt
              + " attempt(s); check that the registry is up and reachable";
      throw cause == null
          ? new RegistryUnavailableException(message)
          : new RegistryUnavailableException(message, cause);
    }
    log.debug("{}: {}; attempt {} in {} ms", action, failure, attempt + 1, delay.get().toMillis());
    try {
      Thread.sleep(delay.get());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryUnavailableException(action + ": interrupted while waiting to retry", e);
    }
  }

  /** Token requests: retried like any other, no credentials beyond those the caller added. */
  private HttpResponse sendToRealm(String action, HttpRequest request) throws RegistryException {
    long startNanos = System.nanoTime();
    for (int attempt = 1; ; attempt++) {
      HttpResponse response;
      try {
        response = sendFollowingRedirects(request, true);
      } catch (IOException e) {
        waitOrGiveUp(retryPolicy, action, attempt, startNanos, null, describe(e), e);
        continue;
      }
      if (RetryPolicy.isRetryableStatus(response.status())
          && canRetry(retryPolicy, attempt, startNanos, response.header("Retry-After"))) {
        String retryAfter = response.header("Retry-After");
        closeQuietly(response);
        waitOrGiveUp(
            retryPolicy,
            action,
            attempt,
            startNanos,
            retryAfter,
            "HTTP " + response.status(),
            null);
        continue;
      }
      if (response.status() == 200) {
        return response;
      }
      throw RegistryErrors.toException(action, response, "check the registry's token service");
    }
  }

  private static Duration elapsedSince(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  static void closeQuietly(HttpResponse response) {
    try {
      response.close();
    } catch (IOException e) {
      // Only the connection's reuse is lost.
    }
  }

  static Set<Integer> statuses(Integer... codes) {
    return Set.of(codes);
  }

  /**
   * TLS failed: retrying cannot help, so this fails at once, naming the host and the hosts.toml
   * settings that fix it (a CA with {@code ca}, or {@code skip_verify} for tests).
   */
  private static RegistryUnavailableException tlsFailure(Exchange exchange, SSLException e) {
    ImageRegistry registry = exchange.registry();
    String where =
        registry.source() != null
            ? registry.source()
            : "a hosts.toml for " + registry.name() + " (snapshotter config_path, or --hosts-dir)";
    // The deepest cause says it best ("unable to find valid certification path ...").
    Throwable root = e;
    boolean untrusted = false;
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      root = t;
      untrusted |= t instanceof CertificateException;
    }
    String why = oneLine(root.getMessage() == null ? root.toString() : root.getMessage());
    if (untrusted) {
      return new RegistryUnavailableException(
          exchange.action()
              + ": the TLS certificate of "
              + registry.apiHost()
              + " is not trusted ("
              + why
              + "); give its CA with ca = \"/path/to/ca.crt\", or set skip_verify = true"
              + " (tests only), for "
              + registry.apiBase()
              + " in "
              + where,
          e);
    }
    return new RegistryUnavailableException(
        exchange.action()
            + ": TLS with "
            + registry.apiHost()
            + " failed ("
            + why
            + "); check that it serves https, or name it with http:// in "
            + where,
        e);
  }

  private static String oneLine(String text) {
    return text.replaceAll("\\s+", " ").strip();
  }

  /** An I/O failure in words for the one-line error: its message, not the Java class name. */
  static String describe(IOException e) {
    String message = e.getMessage();
    if (e instanceof java.net.UnknownHostException) {
      return "unknown host " + message;
    }
    if (message == null || message.isBlank()) {
      return e.getClass().getSimpleName();
    }
    return message.substring(0, 1).toLowerCase(java.util.Locale.ROOT) + message.substring(1);
  }
}
