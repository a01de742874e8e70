package dev.lazypull.registry;

import java.util.Optional;

/** Finds the credentials to use for a registry host. */
@FunctionalInterface
public interface CredentialSource {

  /** No credentials anywhere: anonymous access only. */
  CredentialSource NONE = host -> Optional.empty();

  /**
   * The credentials for {@code registryHost} ({@code host[:port]} as the user names it, e.g. {@code
   * docker.io}), or empty for anonymous access.
   */
  Optional<Credentials> lookup(String registryHost) throws RegistryException;

  /** The same credentials for every host, e.g. from {@code --creds user:password}. */
  static CredentialSource fixed(Credentials credentials) {
    return host -> Optional.of(credentials);
  }
}
