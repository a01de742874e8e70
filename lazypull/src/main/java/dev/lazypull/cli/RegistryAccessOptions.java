package dev.lazypull.cli;

import dev.lazypull.oci.Platform;
import dev.lazypull.registry.CredentialSource;
import dev.lazypull.registry.Credentials;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * How to reach a registry: plain-HTTP hosts, credentials and platform. `run` uses these as they
 * are; the other commands take {@link RegistryOptionsMixin}, which adds `--user` for credentials.
 */
public class RegistryAccessOptions {

  @Option(
      names = "--insecure",
      paramLabel = "HOST[:PORT]",
      description = "Talk plain HTTP to this registry (repeatable; loopback always is).")
  List<String> insecureHosts = new ArrayList<>();

  // Never printed: Credentials.toString() hides the secret, and messages name only the user.
  @Option(
      names = "--creds",
      paramLabel = "USER:PASS",
      description = "Registry credentials (default: ~/.docker/config.json).")
  @Nullable String user;

  @Option(
      names = "--platform",
      paramLabel = "OS/ARCH[/VARIANT]",
      description = "Platform to pick from an image index (default: this host's).")
  @Nullable String platform;

  /** The platform asked for, or null for the host's. */
  @Nullable Platform platform() {
    return platform == null ? null : Platform.parse(platform);
  }

  RegistryOptions options() {
    RegistryOptions options =
        RegistryOptions.defaults().withInsecureHosts(Set.copyOf(insecureHosts));
    if (user != null) {
      options = options.withCredentials(CredentialSource.fixed(Credentials.parse(user)));
    }
    Platform asked = platform();
    return asked == null ? options : options.withPlatform(asked);
  }

  RegistryClient client() {
    return RegistryClient.create(options());
  }
}
