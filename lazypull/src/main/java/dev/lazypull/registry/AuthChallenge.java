package dev.lazypull.registry;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A parsed {@code WWW-Authenticate} header: a scheme ({@code bearer} or {@code basic}) and its
 * parameters ({@code realm}, {@code service}, {@code scope}, {@code error}).
 */
record AuthChallenge(String scheme, Map<String, String> parameters) {

  AuthChallenge {
    parameters = Map.copyOf(parameters);
  }

  boolean isBearer() {
    return scheme.equals("bearer");
  }

  boolean isBasic() {
    return scheme.equals("basic");
  }

  @Nullable String parameter(String name) {
    return parameters.get(name);
  }

  /** Parses {@code Bearer realm="...",service="...",scope="a,b"}; null when the header is bad. */
  static @Nullable AuthChallenge parse(@Nullable String header) {
    if (header == null || header.isBlank()) {
      return null;
    }
    String text = header.strip();
    int space = text.indexOf(' ');
    String scheme = (space < 0 ? text : text.substring(0, space)).toLowerCase(Locale.ROOT);
    Map<String, String> parameters = new LinkedHashMap<>();
    int position = space < 0 ? text.length() : space + 1;
    while (position < text.length()) {
      int equals = text.indexOf('=', position);
      if (equals < 0) {
        break;
      }
      String name = text.substring(position, equals).strip().toLowerCase(Locale.ROOT);
      int valueStart = equals + 1;
      String value;
      if (valueStart < text.length() && text.charAt(valueStart) == '"') {
        // Quoted values may hold commas (scope="repository:a:pull,push").
        int close = text.indexOf('"', valueStart + 1);
        if (close < 0) {
          return null;
        }
        value = text.substring(valueStart + 1, close);
        position = close + 1;
      } else {
        int comma = text.indexOf(',', valueStart);
        int end = comma < 0 ? text.length() : comma;
        value = text.substring(valueStart, end).strip();
        position = end;
      }
      parameters.put(name, value);
      while (position < text.length()
          && (text.charAt(position) == ',' || text.charAt(position) == ' ')) {
        position++;
      }
    }
    return new AuthChallenge(scheme, parameters);
  }
}
