package dev.lazypull.registry;

import dev.lazypull.registry.RegistryEndpoint.Capability;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tries a read at each endpoint that may do it, in order, as containerd does with the hosts of a
 * hosts.toml: an endpoint that cannot be reached, fails (5xx, TLS) or lacks the thing (404) passes
 * the read to the next one. Any other answer (401, a wrong digest, ...) ends the read there.
 */
final class EndpointFallback {

  /**
   * An endpoint that could not be reached is passed over for this long. A lazy mount reads many
   * ranges; without this, each one would wait for the dead mirror first.
   */
  static final Duration PASS_OVER = Duration.ofSeconds(30);

  private static final Logger log = LoggerFactory.getLogger(EndpointFallback.class);

  /** One read at one endpoint; {@code action} names the endpoint when it is not the registry. */
  interface Attempt<T> {
    T at(ImageRegistry endpoint, String action) throws RegistryException;
  }

  /** What a read of blobs, or of manifests by digest, needs. */
  static final Set<Capability> PULL = Set.of(Capability.PULL);

  /** What resolving a tag needs (containerd asks for both). */
  static final Set<Capability> RESOLVE = Set.of(Capability.PULL, Capability.RESOLVE);

  private final Endpoints endpoints;
  private final Map<URI, Long> unreachableUntilNanos = new ConcurrentHashMap<>();

  EndpointFallback(Endpoints endpoints) {
    this.endpoints = endpoints;
  }

  /**
   * The first answer for {@code reference} from the endpoints that have all of {@code needed}. When
   * all fail, the last one's exception is thrown with the endpoints tried before it in its message.
   */
  <T> T first(ImageReference reference, Set<Capability> needed, String action, Attempt<T> attempt)
      throws RegistryException {
    List<ImageRegistry> candidates = endpoints.candidates(reference, needed, action);
    List<String> tried = new ArrayList<>();
    for (ImageRegistry endpoint : candidates) {
      boolean last = !endpoint.hasFallback();
      if (!last && passedOver(endpoint)) {
        tried.add(endpoint.apiBase() + ": passed over, unreachable less than 30 s ago");
        continue;
      }
      String endpointAction = action + endpoint.via();
      try {
        T answer = attempt.at(endpoint, endpointAction);
        unreachableUntilNanos.remove(endpoint.apiBase());
        return answer;
      } catch (NotFoundException | RegistryUnavailableException e) {
        if (last) {
          throw RegistryErrors.withTried(e, tried);
        }
        if (e instanceof RegistryUnavailableException) {
          unreachableUntilNanos.put(endpoint.apiBase(), System.nanoTime() + PASS_OVER.toNanos());
        }
        log.debug("{}; trying the next endpoint", e.getMessage());
        tried.add(endpoint.apiBase() + ": " + reason(e, endpointAction));
      } catch (RegistryException e) {
        throw RegistryErrors.withTried(e, tried);
      }
    }
    throw new IllegalStateException(action + ": every endpoint was passed over");
  }

  private boolean passedOver(ImageRegistry endpoint) {
    Long until = unreachableUntilNanos.get(endpoint.apiBase());
    if (until == null) {
      return false;
    }
    if (System.nanoTime() - until >= 0) {
      unreachableUntilNanos.remove(endpoint.apiBase());
      return false;
    }
    return true;
  }

  /** What went wrong at an endpoint, short: its message without the action and the advice. */
  private static String reason(RegistryException e, String action) {
    String message = String.valueOf(e.getMessage());
    if (message.startsWith(action + ": ")) {
      message = message.substring(action.length() + 2);
    }
    int advice = message.indexOf("; ");
    if (advice > 0) {
      message = message.substring(0, advice);
    }
    if (message.isBlank() && e.getCause() instanceof IOException io) {
      message = RequestSender.describe(io);
    }
    return message;
  }
}
