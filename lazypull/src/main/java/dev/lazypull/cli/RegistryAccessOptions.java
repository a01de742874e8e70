package dev.lazypull.cli;

import dev.lazypull.oci.Platform;
import dev.lazypull.registry.CredentialSource;
import dev.lazypull.registry.Credentials;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryHosts;
import dev.lazypull.registry.RegistryOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * How to reach a registry: plain-HTTP hosts, a hosts.toml directory, credentials and platform.
 * `run` uses these as they are; the other commands take {@link RegistryOptionsMixin}, which adds
 * `--user` for credentials.
 */
public class RegistryAccessOptions {

  @Option(
      names = "--insecure",
      paramLabel = "HOST[:PORT]",
      description = "Talk plain HTTP to this registry (repeatable; loopback always is).")
  List<String> insecureHosts = new ArrayList<>();

  @Option(
      names = "--hosts-dir",
      paramLabel = "DIR",
      description =
          "containerd-style hosts directory (DIR/<host[:port]>/hosts.toml, DIR/_default):"
              + " mirrors, CA files, skip_verify, as containerd's config_path.")
  @Nullable Path hostsDir;

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

  RegistryOptions options() throws IOException {
    RegistryOptions options =
        RegistryOptions.defaults().withInsecureHosts(Set.copyOf(insecureHosts));
    if (hostsDir != null) {
      if (!Files.isDirectory(hostsDir)) {
        throw new IOException(
            "--hosts-dir " + hostsDir + " is not a directory; give containerd's certs.d layout");
      }
      options = options.withHosts(RegistryHosts.load(hostsDir));
    }
    if (user != null) {
      options = options.withCredentials(CredentialSource.fixed(Credentials.parse(user)));
    }
    Platform asked = platform();
    return asked == null ? options : options.withPlatform(asked);
  }

  RegistryClient client() throws IOException {
    return RegistryClient.create(options());
  }
}
