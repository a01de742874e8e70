package dev.lazypull.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.lazypull.registry.RegistryEndpoint.Capability;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one containerd hosts.toml (containerd 1.6's meaning): {@code server} and the top-level keys
 * describe the server, each {@code [host."URL"]} table a mirror tried before it in file order. Per
 * endpoint: {@code capabilities} (pull, resolve, push; all when absent), {@code ca} (a path or a
 * list, relative to the file's directory), {@code skip_verify}, {@code override_path}.
 */
final class HostsToml {

  private static final Logger log = LoggerFactory.getLogger(HostsToml.class);

  /** Keys containerd knows that lazypull does not act on; named in a warning, not an error. */
  private static final List<String> UNSUPPORTED =
      List.of("client", "header", "dial_timeout", "proxy");

  private HostsToml() {}

  /** Parses {@code file}; an unreadable or wrong one fails with one line naming it. */
  static RegistryHostConfig parse(Path file) throws IOException {
    JsonNode toml;
    try {
      toml = new TomlMapper().readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new IOException(
          "read " + file + ": not valid TOML (" + oneLine(e) + "); fix the file's syntax", e);
    }
    if (toml == null || !toml.isObject()) {
      toml = new TomlMapper().createObjectNode();
    }
    Path absolute = file.toAbsolutePath();
    Path dir = absolute.getParent() != null ? absolute.getParent() : absolute;
    List<RegistryEndpoint> endpoints = new ArrayList<>();
    JsonNode hosts = toml.path("host");
    if (!hosts.isMissingNode() && !hosts.isObject()) {
      throw invalid(file, "host", "must be tables [host.\"https://mirror\"]");
    }
    for (Map.Entry<String, JsonNode> host : hosts.properties()) {
      String where = "[host.\"" + host.getKey() + "\"]";
      if (!host.getValue().isObject()) {
        throw invalid(file, where, "must be a table");
      }
      endpoints.add(endpoint(file, dir, where, host.getKey(), host.getValue()));
    }
    String server = text(file, "server", toml.path("server"));
    endpoints.add(endpoint(file, dir, "server", server, toml));
    return new RegistryHostConfig(file.toString(), endpoints);
  }

  private static RegistryEndpoint endpoint(
      Path file, Path dir, String where, String url, JsonNode keys) throws IOException {
    for (String key : UNSUPPORTED) {
      if (keys.has(key)) {
        log.warn(
            "{}: {} sets {}, which lazypull does not support; it is ignored", file, where, key);
      }
    }
    Set<Capability> capabilities = capabilities(file, where, keys.path("capabilities"));
    if (url.isEmpty()) {
      // containerd gives the image's own registry, filled in for a missing server, every
      // capability whatever the top-level capabilities say; its ca and skip_verify still apply.
      capabilities = EnumSet.allOf(Capability.class);
    }
    return new RegistryEndpoint(
        url.isEmpty() ? null : url(file, where, url),
        capabilities,
        caFiles(file, dir, where, keys.path("ca")),
        bool(file, where + " skip_verify", keys.path("skip_verify")),
        bool(file, where + " override_path", keys.path("override_path")));
  }

  /** containerd's reading: no scheme means https; only http and https are allowed. */
  private static URI url(Path file, String where, String text) throws IOException {
    String withScheme = text.contains("://") ? text : "https://" + text;
    URI url;
    try {
      url = URI.create(withScheme);
    } catch (IllegalArgumentException e) {
      throw invalid(file, where, "'" + text + "' is not a URL (" + e.getMessage() + ")");
    }
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || url.getHost() == null) {
      throw invalid(
          file, where, "'" + text + "' is not an http(s) URL; write https://host[:port][/path]");
    }
    return url;
  }

  private static Set<Capability> capabilities(Path file, String where, JsonNode node)
      throws IOException {
    if (node.isMissingNode() || (node.isArray() && node.isEmpty())) {
      return EnumSet.allOf(Capability.class);
    }
    if (!node.isArray()) {
      throw invalid(
          file, where + " capabilities", "must be a list such as [\"pull\", \"resolve\"]");
    }
    Set<Capability> capabilities = EnumSet.noneOf(Capability.class);
    for (JsonNode item : node) {
      String word = item.isTextual() ? item.asText().toLowerCase(Locale.ROOT) : item.toString();
      try {
        capabilities.add(Capability.valueOf(word.toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw invalid(
            file,
            where + " capabilities",
            "unknown capability " + word + "; use pull, resolve, push");
      }
    }
    return capabilities;
  }

  private static List<Path> caFiles(Path file, Path dir, String where, JsonNode node)
      throws IOException {
    List<Path> files = new ArrayList<>();
    if (node.isMissingNode()) {
      return files;
    }
    if (node.isTextual()) {
      files.add(dir.resolve(node.asText()));
      return files;
    }
    if (!node.isArray()) {
      throw invalid(file, where + " ca", "must be a path or a list of paths");
    }
    for (JsonNode item : node) {
      if (!item.isTextual()) {
        throw invalid(file, where + " ca", "must be a path or a list of paths");
      }
      // Relative paths are relative to the hosts.toml's directory, as in containerd.
      files.add(dir.resolve(item.asText()));
    }
    return files;
  }

  private static boolean bool(Path file, String where, JsonNode node) throws IOException {
    if (node.isMissingNode()) {
      return false;
    }
    if (!node.isBoolean()) {
      throw invalid(file, where, "must be true or false");
    }
    return node.asBoolean();
  }

  private static String text(Path file, String where, JsonNode node) throws IOException {
    if (node.isMissingNode()) {
      return "";
    }
    if (!node.isTextual()) {
      throw invalid(file, where, "must be a string");
    }
    return node.asText();
  }

  private static IOException invalid(Path file, String where, String what) {
    return new IOException("read " + file + ": " + where + " " + what);
  }

  private static String oneLine(JsonProcessingException e) {
    String message = e.getOriginalMessage() == null ? e.toString() : e.getOriginalMessage();
    var location = e.getLocation();
    String at = location == null ? "" : " at line " + location.getLineNr();
    return message.replaceAll("\\s+", " ").strip() + at;
  }
}
