package dev.lazypull.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lazypull.oci.OciJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Credentials from a Docker client config ({@code ~/.docker/config.json}): {@code
 * auths.<host>.auth} (base64 of user:password), or a credential helper named by {@code
 * credHelpers.<host>} or {@code credsStore}.
 */
public final class DockerConfigCredentials implements CredentialSource {

  /** Docker Hub's key in the config file, a relic of the v1 API. */
  private static final String HUB_KEY = "https://index.docker.io/v1/";

  private final Path configFile;
  private final CredentialHelperRunner helperRunner;

  public DockerConfigCredentials(Path configFile, CredentialHelperRunner helperRunner) {
    this.configFile = configFile;
    this.helperRunner = helperRunner;
  }

  /** The user's config: {@code $DOCKER_CONFIG/config.json} or {@code ~/.docker/config.json}. */
  public static DockerConfigCredentials ofUser() {
    String dockerConfig = System.getenv("DOCKER_CONFIG");
    Path dir =
        dockerConfig != null
            ? Path.of(dockerConfig)
            : Path.of(System.getProperty("user.home"), ".docker");
    return new DockerConfigCredentials(
        dir.resolve("config.json"), CredentialHelperRunner.fromPath());
  }

  @Override
  public Optional<Credentials> lookup(String registryHost) throws RegistryException {
    if (!Files.isRegularFile(configFile)) {
      return Optional.empty();
    }
    JsonNode config = readConfig();
    String key = registryHost.equals(ImageReference.DOCKER_HUB) ? HUB_KEY : registryHost;
    String helper = helperFor(config, registryHost);
    if (helper != null) {
      return helperRunner.get(helper, key);
    }
    return inlineAuth(config.path("auths"), registryHost);
  }

  private JsonNode readConfig() throws RegistryException {
    try {
      return OciJson.MAPPER.readTree(Files.readAllBytes(configFile));
    } catch (IOException e) {
      throw new RegistryProtocolException(
          "read credentials from " + configFile + ": not valid JSON; fix or remove the file", e);
    }
  }

  private static @Nullable String helperFor(JsonNode config, String registryHost) {
    JsonNode perHost = config.path("credHelpers");
    for (String name : keysOf(registryHost)) {
      if (perHost.path(name).isTextual()) {
        return perHost.path(name).asText();
      }
    }
    JsonNode store = config.path("credsStore");
    return store.isTextual() && !store.asText().isEmpty() ? store.asText() : null;
  }

  private Optional<Credentials> inlineAuth(JsonNode auths, String registryHost)
      throws RegistryException {
    for (String name : keysOf(registryHost)) {
      JsonNode auth = auths.path(name).path("auth");
      if (auth.isTextual() && !auth.asText().isEmpty()) {
        return Optional.of(decode(auth.asText(), name));
      }
    }
    return Optional.empty();
  }

  /** The spellings under which a host's entry may be stored. */
  private static List<String> keysOf(String registryHost) {
    if (registryHost.equals(ImageReference.DOCKER_HUB)) {
      return List.of(HUB_KEY, "docker.io", "index.docker.io", "https://index.docker.io");
    }
    return List.of(registryHost, "https://" + registryHost, "http://" + registryHost);
  }

  private Credentials decode(String base64, String key) throws RegistryException {
    try {
      String pair = new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
      return Credentials.parse(pair);
    } catch (IllegalArgumentException e) {
      // The message must not echo the decoded text: it holds the password.
      throw new RegistryProtocolException(
          "read credentials for "
              + key
              + " from "
              + configFile
              + ": auths."
              + key
              + ".auth is not base64 of user:password; run docker login again");
    }
  }
}
