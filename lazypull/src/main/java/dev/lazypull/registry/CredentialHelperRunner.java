package dev.lazypull.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lazypull.oci.OciJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code docker-credential-<name> get}: the server URL goes to its stdin, JSON {@code
 * {"Username":..,"Secret":..}} comes back on stdout.
 */
public final class CredentialHelperRunner {

  private static final long TIMEOUT_SECONDS = 30;
  private final List<Path> searchPath;

  public CredentialHelperRunner(List<Path> searchPath) {
    this.searchPath = List.copyOf(searchPath);
  }

  /** Looks helpers up in the directories of {@code $PATH}. */
  public static CredentialHelperRunner fromPath() {
    String path = System.getenv("PATH");
    List<Path> dirs = new ArrayList<>();
    if (path != null) {
      for (String dir : path.split(":")) {
        if (!dir.isEmpty()) {
          dirs.add(Path.of(dir));
        }
      }
    }
    return new CredentialHelperRunner(dirs);
  }

  /** The credentials the helper holds for {@code serverUrl}, empty when it has none. */
  public Optional<Credentials> get(String helperName, String serverUrl) throws RegistryException {
    Path program = find("docker-credential-" + helperName);
    String action = "get credentials for " + serverUrl + " from " + program;
    try {
      Process process = new ProcessBuilder(program.toString(), "get").start();
      try (OutputStream stdin = process.getOutputStream()) {
        stdin.write(serverUrl.getBytes(StandardCharsets.UTF_8));
      }
      byte[] stdout = readBounded(process.getInputStream());
      process.getErrorStream().close();
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new RegistryUnavailableException(action + ": no answer in " + TIMEOUT_SECONDS + " s");
      }
      if (process.exitValue() != 0) {
        // Helpers exit non-zero with "credentials not found in native keychain": anonymous.
        return Optional.empty();
      }
      return parse(stdout, action);
    } catch (IOException e) {
      throw new RegistryUnavailableException(action + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryUnavailableException(action + ": interrupted", e);
    }
  }

  private Path find(String programName) throws RegistryException {
    for (Path dir : searchPath) {
      Path candidate = dir.resolve(programName);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new UnauthorizedException(
        "find credential helper "
            + programName
            + ": not on the search path; install it or remove it from ~/.docker/config.json");
  }

  private static byte[] readBounded(InputStream in) throws IOException {
    try (in) {
      return in.readNBytes(1 << 20);
    }
  }

  private static Optional<Credentials> parse(byte[] stdout, String action)
      throws RegistryException {
    try {
      JsonNode answer = OciJson.MAPPER.readTree(stdout);
      String user = answer.path("Username").asText("");
      String secret = answer.path("Secret").asText("");
      if (user.isEmpty() || secret.isEmpty()) {
        return Optional.empty();
      }
      // TODO: Username "<token>" marks an identity (OAuth refresh) token, which needs the
      // token endpoint's POST grant; it is sent as a password for now.
      return Optional.of(new Credentials(user, secret));
    } catch (IOException e) {
      // Never echo stdout: it holds the secret.
      throw new RegistryProtocolException(action + ": the helper did not print JSON credentials");
    }
  }
}
