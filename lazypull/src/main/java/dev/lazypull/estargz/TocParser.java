package dev.lazypull.estargz;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Reads TOC JSON token by token. A TOC is read at every mount and a big layer's runs to megabytes
 * (27,672 entries, 8.5 MB for the python image): data binding of records spent seconds of a cold
 * JVM's start on it, the streaming parser a fraction. Unknown fields (such as {@code NumLink}) are
 * skipped, values of known fields must have their JSON type.
 */
final class TocParser {
  private static final JsonFactory FACTORY = new JsonFactory();

  private TocParser() {}

  static Toc parse(byte[] json) throws IOException {
    try (JsonParser parser = FACTORY.createParser(json)) {
      expect(parser, parser.nextToken(), JsonToken.START_OBJECT, "the TOC");
      int version = -1;
      List<TocEntry> entries = new ArrayList<>();
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        switch (field) {
          case "version" -> version = intValue(parser, value, field);
          case "entries" -> {
            if (value != JsonToken.VALUE_NULL) {
              expect(parser, value, JsonToken.START_ARRAY, "entries");
              while (parser.nextToken() == JsonToken.START_OBJECT) {
                entries.add(entry(parser));
              }
              expect(parser, parser.currentToken(), JsonToken.END_ARRAY, "entries");
            }
          }
          default -> parser.skipChildren();
        }
      }
      return new Toc(version, entries);
    }
  }

  /** One entry, the parser on its START_OBJECT. */
  private static TocEntry entry(JsonParser parser) throws IOException {
    var e = new Fields();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      switch (field) {
        case "name" -> e.name = text(parser, value, field);
        case "type" -> e.type = text(parser, value, field);
        case "size" -> e.size = longValue(parser, value, field);
        case "modtime" -> e.modtime = text(parser, value, field);
        case "linkName" -> e.linkName = text(parser, value, field);
        case "mode" -> e.mode = longValue(parser, value, field);
        case "uid" -> e.uid = intValue(parser, value, field);
        case "gid" -> e.gid = intValue(parser, value, field);
        case "userName" -> e.userName = text(parser, value, field);
        case "groupName" -> e.groupName = text(parser, value, field);
        case "offset" -> e.offset = longValue(parser, value, field);
        case "innerOffset" -> e.innerOffset = longValue(parser, value, field);
        case "devMajor" -> e.devMajor = intValue(parser, value, field);
        case "devMinor" -> e.devMinor = intValue(parser, value, field);
        case "xattrs" -> e.xattrs = xattrs(parser, value);
        case "digest" -> e.digest = text(parser, value, field);
        case "chunkOffset" -> e.chunkOffset = longValue(parser, value, field);
        case "chunkSize" -> e.chunkSize = longValue(parser, value, field);
        case "chunkDigest" -> e.chunkDigest = text(parser, value, field);
        default -> parser.skipChildren();
      }
    }
    if (e.name == null || e.type == null) {
      throw new IOException("a TOC entry has no " + (e.name == null ? "name" : "type"));
    }
    return new TocEntry(
        e.name,
        e.type,
        e.size,
        e.modtime,
        e.linkName,
        e.mode,
        e.uid,
        e.gid,
        e.userName,
        e.groupName,
        e.offset,
        e.innerOffset,
        e.devMajor,
        e.devMinor,
        e.xattrs,
        e.digest,
        e.chunkOffset,
        e.chunkSize,
        e.chunkDigest);
  }

  /** An entry's fields as they are read; absent ones keep the defaults the writer leaves out. */
  private static final class Fields {
    @Nullable String name;
    @Nullable String type;
    long size;
    @Nullable String modtime;
    @Nullable String linkName;
    long mode;
    int uid;
    int gid;
    @Nullable String userName;
    @Nullable String groupName;
    long offset;
    long innerOffset;
    int devMajor;
    int devMinor;
    @Nullable Map<String, byte[]> xattrs;
    @Nullable String digest;
    long chunkOffset;
    long chunkSize;
    @Nullable String chunkDigest;
  }

  /** Extended attributes: names to base64 values, which may hold any bytes. */
  private static @Nullable Map<String, byte[]> xattrs(JsonParser parser, JsonToken value)
      throws IOException {
    if (value == JsonToken.VALUE_NULL) {
      return null;
    }
    expect(parser, value, JsonToken.START_OBJECT, "xattrs");
    Map<String, byte[]> xattrs = new LinkedHashMap<>();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      JsonToken token = parser.nextToken();
      if (token == JsonToken.VALUE_NULL) {
        continue;
      }
      expect(parser, token, JsonToken.VALUE_STRING, "xattr " + name);
      xattrs.put(name, parser.getBinaryValue());
    }
    return xattrs;
  }

  private static @Nullable String text(JsonParser parser, JsonToken value, String field)
      throws IOException {
    if (value == JsonToken.VALUE_NULL) {
      return null;
    }
    expect(parser, value, JsonToken.VALUE_STRING, field);
    return parser.getText();
  }

  private static long longValue(JsonParser parser, JsonToken value, String field)
      throws IOException {
    if (value == JsonToken.VALUE_NULL) {
      return 0;
    }
    expect(parser, value, JsonToken.VALUE_NUMBER_INT, field);
    return parser.getLongValue();
  }

  private static int intValue(JsonParser parser, JsonToken value, String field) throws IOException {
    if (value == JsonToken.VALUE_NULL) {
      return 0;
    }
    expect(parser, value, JsonToken.VALUE_NUMBER_INT, field);
    return parser.getIntValue();
  }

  private static void expect(
      JsonParser parser, @Nullable JsonToken actual, JsonToken expected, String what)
      throws IOException {
    if (actual != expected) {
      throw new IOException(
          what
              + " is "
              + (actual == null
                  ? "missing"
                  : actual.asString() == null ? actual : actual.asString())
              + " where "
              + expected
              + " belongs, at "
              + parser.currentLocation().offsetDescription());
    }
  }
}
