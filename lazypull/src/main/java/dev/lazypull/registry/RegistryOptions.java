package dev.lazypull.registry;

import dev.lazypull.oci.Platform;
import java.time.Duration;
import java.util.Set;

/**
 * How a {@link RegistryClient} talks to registries.
 *
 * @param insecureHosts registries ({@code host[:port]}) spoken to over plain HTTP; loopback hosts
 *     always are
 * @param credentials where credentials come from
 * @param platform the platform image indexes are resolved to
 * @param connectTimeout bound on opening a connection
 * @param readTimeout bound on waiting for any byte of an answer
 * @param retryPolicy when failed requests are tried again
 * @param allowFullDownloadForRanges whether a registry that ignores Range may be read by
 *     downloading from the start; when false such a read fails with RangeUnsupportedException
 * @param hosts mirrors and per-endpoint TLS from containerd hosts.toml files (or none)
 */
public record RegistryOptions(
    Set<String> insecureHosts,
    CredentialSource credentials,
    Platform platform,
    Duration connectTimeout,
    Duration readTimeout,
    RetryPolicy retryPolicy,
    boolean allowFullDownloadForRanges,
    RegistryHosts hosts) {

  public RegistryOptions {
    insecureHosts = Set.copyOf(insecureHosts);
  }

  /** Host platform, Docker config credentials, 10 s connect and 60 s read timeouts. */
  public static RegistryOptions defaults() {
    return new RegistryOptions(
        Set.of(),
        DockerConfigCredentials.ofUser(),
        Platform.host(),
        Duration.ofSeconds(10),
        Duration.ofSeconds(60),
        RetryPolicy.DEFAULT,
        true,
        RegistryHosts.none());
  }

  public RegistryOptions withInsecureHosts(Set<String> newInsecureHosts) {
    return new RegistryOptions(
        newInsecureHosts,
        credentials,
        platform,
        connectTimeout,
        readTimeout,
        retryPolicy,
        allowFullDownloadForRanges,
        hosts);
  }

  public RegistryOptions withCredentials(CredentialSource source) {
    return new RegistryOptions(
        insecureHosts,
        source,
        platform,
        connectTimeout,
        readTimeout,
        retryPolicy,
        allowFullDownloadForRanges,
        hosts);
  }

  public RegistryOptions withPlatform(Platform newPlatform) {
    return new RegistryOptions(
        insecureHosts,
        credentials,
        newPlatform,
        connectTimeout,
        readTimeout,
        retryPolicy,
        allowFullDownloadForRanges,
        hosts);
  }

  public RegistryOptions withTimeouts(Duration connect, Duration read) {
    return new RegistryOptions(
        insecureHosts,
        credentials,
        platform,
        connect,
        read,
        retryPolicy,
        allowFullDownloadForRanges,
        hosts);
  }

  public RegistryOptions withRetryPolicy(RetryPolicy policy) {
    return new RegistryOptions(
        insecureHosts,
        credentials,
        platform,
        connectTimeout,
        readTimeout,
        policy,
        allowFullDownloadForRanges,
        hosts);
  }

  /** Mirrors and TLS settings per registry, e.g. {@code RegistryHosts.load(certsDir)}. */
  public RegistryOptions withHosts(RegistryHosts newHosts) {
    return new RegistryOptions(
        insecureHosts,
        credentials,
        platform,
        connectTimeout,
        readTimeout,
        retryPolicy,
        allowFullDownloadForRanges,
        newHosts);
  }

  public RegistryOptions withFullDownloadForRanges(boolean allowed) {
    return new RegistryOptions(
        insecureHosts,
        credentials,
        platform,
        connectTimeout,
        readTimeout,
        retryPolicy,
        allowed,
        hosts);
  }
}
