package dev.lazypull.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lazypull.oci.OciJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The one place that turns an unwanted HTTP answer into a {@link RegistryException}. */
final class RegistryErrors {

  private static final int ERROR_BODY_LIMIT = 8192;

  private RegistryErrors() {}

  /**
   * The exception for an answer the caller did not expect.
   *
   * @param action what was being done, naming the image or blob ("fetch manifest x:1")
   * @param notFoundHint what to try when the thing does not exist
   */
  static RegistryException toException(String action, HttpResponse response, String notFoundHint) {
    int status = response.status();
    String said = describe(response);
    return switch (status) {
      case 404 -> new NotFoundException(action + ": not found (" + said + "); " + notFoundHint);
      case 401 ->
          new UnauthorizedException(
              action
                  + ": the registry wants credentials ("
                  + said
                  + "); run docker login for this registry or pass credentials");
      case 403 ->
          new UnauthorizedException(
              action + ": access denied (" + said + "); check that these credentials may do this");
      case 416 ->
          new RangeNotSatisfiableException(
              action + ": range not satisfiable (" + said + "); the blob size is probably wrong");
      default -> {
        if (RetryPolicy.isRetryableStatus(status)) {
          yield new RegistryUnavailableException(
              action + ": the registry kept failing (" + said + "); try again later");
        }
        yield new RegistryProtocolException(
            action + ": unexpected answer (" + said + "); the registry may not support this");
      }
    };
  }

  /**
   * The same failure with the endpoints tried before the one that failed last named at its end
   * ("...; tried first: http://mirror/v2/: not found (HTTP 404 ...)"); unchanged when there were
   * none.
   */
  static RegistryException withTried(RegistryException e, List<String> tried) {
    if (tried.isEmpty()) {
      return e;
    }
    String message = e.getMessage() + "; tried first: " + String.join(", ", tried);
    return switch (e) {
      case NotFoundException notFound -> new NotFoundException(message, e);
      case RegistryUnavailableException unavailable -> new RegistryUnavailableException(message, e);
      case UnauthorizedException unauthorized -> new UnauthorizedException(message, e);
      case RegistryProtocolException protocol -> new RegistryProtocolException(message, e);
      case RangeNotSatisfiableException range -> new RangeNotSatisfiableException(message, e);
      case RangeUnsupportedException range -> new RangeUnsupportedException(message, e);
      // Its message is made from its digests; the caller keeps them.
      case DigestMismatchException mismatch -> mismatch;
      default -> e;
    };
  }

  /** "HTTP 404 MANIFEST_UNKNOWN: manifest unknown" from the distribution error body. */
  private static String describe(HttpResponse response) {
    String text = "HTTP " + response.status();
    try {
      byte[] body = response.bodyBytes(ERROR_BODY_LIMIT);
      List<String> errors = errorsOf(body);
      if (!errors.isEmpty()) {
        text += " " + String.join("; ", errors);
      }
    } catch (IOException e) {
      // The status alone still says what happened.
    }
    return text;
  }

  private static List<String> errorsOf(byte[] body) {
    List<String> errors = new ArrayList<>();
    try {
      JsonNode root = OciJson.MAPPER.readTree(body);
      for (JsonNode error : root.path("errors")) {
        errors.add(
            error.path("code").asText("") + ": " + oneLine(error.path("message").asText("")));
      }
    } catch (IOException | RuntimeException notJson) {
      String plain = oneLine(new String(body, StandardCharsets.UTF_8));
      if (!plain.isBlank() && plain.length() < 200) {
        errors.add(plain);
      }
    }
    return errors;
  }

  private static String oneLine(String text) {
    return text.replaceAll("\\s+", " ").strip();
  }
}
