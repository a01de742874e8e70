package dev.lazypull.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The part of an image config that says how to start the process ({@code config} in the OCI image
 * config): entrypoint, cmd, env, working dir and user.
 */
public record ContainerConfig(
    List<String> entrypoint, List<String> cmd, List<String> env, String workingDir, String user) {

  /** Reads the {@code config} object of an image config; absent fields become empty. */
  public static ContainerConfig fromImageConfig(JsonNode imageConfig) {
    JsonNode config = imageConfig.path("config");
    return new ContainerConfig(
        strings(config.path("Entrypoint")),
        strings(config.path("Cmd")),
        strings(config.path("Env")),
        config.path("WorkingDir").asText(""),
        config.path("User").asText(""));
  }

  private static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    if (array.isArray()) {
      array.forEach(v -> values.add(v.asText()));
    }
    return List.copyOf(values);
  }
}
