package dev.lazypull.snapshotter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * containerd's registry hosts directory ({@code config_path}, e.g. /etc/containerd/certs.d): one
 * directory per registry host holding a {@code hosts.toml}. lazypull reads which hosts are reached
 * over plain HTTP (a {@code server} or {@code [host."http://..."]} URL with the http scheme), so
 * that the snapshotter reaches the same registries containerd does.
 */
final class RegistryHostsDirectory {
  private RegistryHostsDirectory() {}

  // TODO: mirrors, per-host CA certificates and skip_verify are not read yet.
  static List<String> plainHttpHosts(Path configPath) throws IOException {
    List<String> hosts = new ArrayList<>();
    if (!Files.isDirectory(configPath)) {
      return hosts;
    }
    try (Stream<Path> dirs = Files.list(configPath)) {
      for (Path dir : dirs.sorted().toList()) {
        Path hostsToml = dir.resolve("hosts.toml");
        if (Files.isRegularFile(hostsToml) && speaksPlainHttp(hostsToml)) {
          // containerd names the directory after the host, "_default" for every host.
          hosts.add(dir.getFileName().toString());
        }
      }
    }
    return hosts;
  }

  private static boolean speaksPlainHttp(Path hostsToml) throws IOException {
    JsonNode toml;
    try {
      toml = new TomlMapper().readTree(hostsToml.toFile());
    } catch (IOException e) {
      throw new IOException("read " + hostsToml + ": not valid TOML (" + e.getMessage() + ")", e);
    }
    if (isHttp(toml.path("server").asText(""))) {
      return true;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = toml.path("host").properties().iterator();
        it.hasNext(); ) {
      if (isHttp(it.next().getKey())) {
        return true;
      }
    }
    return false;
  }

  private static boolean isHttp(String url) {
    return !url.isEmpty() && "http".equalsIgnoreCase(URI.create(url).getScheme());
  }
}
