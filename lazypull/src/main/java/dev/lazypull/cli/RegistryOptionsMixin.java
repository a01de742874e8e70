package dev.lazypull.cli;

import picocli.CommandLine.Option;

/**
 * Registry options of the index commands (convert, create, index, ztoc, mount): {@link
 * RegistryAccessOptions} plus `--user` as another name for `--creds`. `run` cannot take it, since
 * there `--user` names the container's user, as in Docker.
 */
public final class RegistryOptionsMixin extends RegistryAccessOptions {
  @Option(names = "--user", paramLabel = "USER:PASS", description = "Same as --creds.")
  void user(String credentials) {
    this.user = credentials;
  }
}
