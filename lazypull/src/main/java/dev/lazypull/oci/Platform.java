package dev.lazypull.oci;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import org.jspecify.annotations.Nullable;

/** An OCI platform: {@code os/architecture[/variant]}. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Platform(
    String architecture, String os, @JsonProperty("variant") @Nullable String variant) {

  /** Parses {@code linux/amd64} or {@code linux/arm64/v8}. */
  public static Platform parse(String text) {
    String[] parts = text.split("/");
    if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new IllegalArgumentException(
          "not a platform: '" + text + "' (expected os/arch[/variant], e.g. linux/amd64)");
    }
    return new Platform(parts[1], parts[0], parts.length == 3 ? parts[2] : null);
  }

  /** The platform of the running JVM, in OCI's names. */
  public static Platform host() {
    String arch =
        switch (System.getProperty("os.arch")) {
          case "amd64", "x86_64" -> "amd64";
          case "aarch64" -> "arm64";
          case String other -> other;
        };
    return new Platform(arch, "linux", null);
  }

  /** Whether a manifest for {@code candidate} can run here, when this is what was asked. */
  public boolean matches(@Nullable Platform candidate) {
    if (candidate == null) {
      return false;
    }
    return os.equals(candidate.os)
        && architecture.equals(candidate.architecture)
        && (variant == null || variant.equals(candidate.variant));
  }

  @Override
  public String toString() {
    return os + "/" + architecture + (variant == null ? "" : "/" + variant);
  }
}
