package dev.lazypull.snapshotter;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * One filter of containerd's filter syntax over snapshot fields: comma-separated selectors that
 * must all match, each {@code field}, {@code field==value}, {@code field!=value} or {@code
 * field~=regex}. Fields are {@code name}, {@code parent}, {@code kind} and {@code labels.<key>}; a
 * path component or a value may be a double-quoted string with backslash escapes, which is how
 * containerd writes label keys ({@code labels."containerd.io/snapshot.ref"==sha256:...}).
 */
public final class SnapshotFilter {
  private final List<Selector> selectors;

  private SnapshotFilter(List<Selector> selectors) {
    this.selectors = List.copyOf(selectors);
  }

  private enum Operator {
    PRESENT,
    EQUALS,
    NOT_EQUALS,
    MATCHES
  }

  private record Selector(
      List<String> field, Operator operator, String value, @Nullable Pattern regex) {}

  /** Parses one filter; an empty string matches everything. */
  public static SnapshotFilter parse(String filter) throws SnapshotException {
    var parser = new Parser(filter);
    List<Selector> selectors = new ArrayList<>();
    parser.skipSpaces();
    while (!parser.atEnd()) {
      selectors.add(parser.selector());
      parser.skipSpaces();
      if (!parser.atEnd()) {
        parser.expect(',');
        parser.skipSpaces();
      }
    }
    return new SnapshotFilter(selectors);
  }

  /** Whether {@code snapshot} matches every selector. */
  public boolean matches(Snapshot snapshot) {
    for (Selector selector : selectors) {
      if (!matches(selector, fieldValue(snapshot, selector.field()))) {
        return false;
      }
    }
    return true;
  }

  private static boolean matches(Selector selector, @Nullable String actual) {
    return switch (selector.operator()) {
      case PRESENT -> actual != null && !actual.isEmpty();
      case EQUALS -> selector.value().equals(actual);
      case NOT_EQUALS -> !selector.value().equals(actual);
      case MATCHES ->
          actual != null && selector.regex() != null && selector.regex().matcher(actual).find();
    };
  }

  private static @Nullable String fieldValue(Snapshot snapshot, List<String> field) {
    return switch (field.getFirst()) {
      case "name" -> field.size() == 1 ? snapshot.key() : null;
      // "" for no parent, so that containerd's parent=="" finds a bottom layer's snapshot.
      case "parent" -> field.size() == 1 ? nullToEmpty(snapshot.parent()) : null;
      case "kind" -> field.size() == 1 ? snapshot.kind().name().toLowerCase(Locale.ROOT) : null;
      case "labels" ->
          field.size() > 1
              ? snapshot.labels().get(String.join(".", field.subList(1, field.size())))
              : null;
      default -> null;
    };
  }

  private static String nullToEmpty(@Nullable String value) {
    return value == null ? "" : value;
  }

  /** A hand-written scanner: the grammar is five rules, a parser library would outweigh it. */
  private static final class Parser {
    private final String text;
    private int position;

    Parser(String text) {
      this.text = text;
    }

    boolean atEnd() {
      return position >= text.length();
    }

    void skipSpaces() {
      while (!atEnd() && Character.isWhitespace(text.charAt(position))) {
        position++;
      }
    }

    void expect(char expected) throws SnapshotException {
      if (atEnd() || text.charAt(position) != expected) {
        throw invalid("expected '" + expected + "'");
      }
      position++;
    }

    Selector selector() throws SnapshotException {
      List<String> field = new ArrayList<>();
      field.add(component());
      while (!atEnd() && text.charAt(position) == '.') {
        position++;
        field.add(component());
      }
      skipSpaces();
      if (atEnd() || text.charAt(position) == ',') {
        return new Selector(field, Operator.PRESENT, "", null);
      }
      Operator operator = operator();
      skipSpaces();
      String value = value();
      Pattern regex = null;
      if (operator == Operator.MATCHES) {
        try {
          regex = Pattern.compile(value);
        } catch (PatternSyntaxException e) {
          throw invalid("bad regular expression " + value);
        }
      }
      return new Selector(field, operator, value, regex);
    }

    private Operator operator() throws SnapshotException {
      String two = text.substring(position, Math.min(text.length(), position + 2));
      position += 2;
      return switch (two) {
        case "==" -> Operator.EQUALS;
        case "!=" -> Operator.NOT_EQUALS;
        case "~=" -> Operator.MATCHES;
        default -> throw invalid("expected ==, != or ~=");
      };
    }

    private String component() throws SnapshotException {
      if (!atEnd() && text.charAt(position) == '"') {
        return quoted();
      }
      int start = position;
      while (!atEnd() && isFieldChar(text.charAt(position))) {
        position++;
      }
      if (start == position) {
        throw invalid("expected a field name");
      }
      return text.substring(start, position);
    }

    private String value() throws SnapshotException {
      if (!atEnd() && text.charAt(position) == '"') {
        return quoted();
      }
      int start = position;
      while (!atEnd() && text.charAt(position) != ',') {
        position++;
      }
      return text.substring(start, position).strip();
    }

    private String quoted() throws SnapshotException {
      position++; // opening quote
      var value = new StringBuilder();
      while (!atEnd() && text.charAt(position) != '"') {
        char c = text.charAt(position++);
        if (c == '\\' && !atEnd()) {
          c = text.charAt(position++);
        }
        value.append(c);
      }
      expect('"');
      return value.toString();
    }

    private static boolean isFieldChar(char c) {
      return Character.isLetterOrDigit(c) || c == '_' || c == '-';
    }

    private SnapshotException invalid(String problem) {
      return new SnapshotException(
          SnapshotException.Reason.INVALID_ARGUMENT,
          "snapshot filter \"" + text + "\": " + problem + " at position " + position);
    }
  }
}
