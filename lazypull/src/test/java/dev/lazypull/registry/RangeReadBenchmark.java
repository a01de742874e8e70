package dev.lazypull.registry;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.Platform;
import dev.lazypull.testing.LocalRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.Random;

/**
 * Times 1-4 MiB range reads from the real registry on loopback: raw HttpURLConnection, raw
 * java.net.http.HttpClient, and RegistryClient.openRange. Run by bench/registry-ranges.sh. Each
 * figure is printed with its ratio to HttpURLConnection measured in the same run.
 */
public final class RangeReadBenchmark {

  private static final int BLOB_BYTES = 64 << 20;

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    try (var registry = LocalRegistry.create().start()) {
      var options =
          RegistryOptions.defaults()
              .withCredentials(CredentialSource.NONE)
              .withPlatform(Platform.parse("linux/amd64"));
      var client = RegistryClient.create(options);
      var repo = registry.reference("bench/ranges:1");
      byte[] blob = new byte[BLOB_BYTES];
      new Random(1).nextBytes(blob);
      var descriptor = Descriptor.of(MediaTypes.OCI_LAYER, Digest.sha256(blob), blob.length);
      client.pushBlob(repo, descriptor, RequestBody.of(blob), null);
      URI uri =
          URI.create(
              "http://" + registry.hostPort() + "/v2/bench/ranges/blobs/" + descriptor.digest());
      HttpClient httpClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

      System.out.printf("range reads from docker-registry on loopback, %d rounds each%n", rounds);
      for (int mib : new int[] {1, 2, 4}) {
        long length = (long) mib << 20;
        // Warm up each path (JIT, connections) before timing it.
        time(rounds / 4, length, (o, l) -> urlConnection(uri, o, l));
        time(rounds / 4, length, (o, l) -> httpClient(httpClient, uri, o, l));
        time(
            rounds / 4,
            length,
            (o, l) -> drain(client.openRange(repo, descriptor.digest(), blob.length, o, l)));
        double base = time(rounds, length, (o, l) -> urlConnection(uri, o, l));
        double jdkClient = time(rounds, length, (o, l) -> httpClient(httpClient, uri, o, l));
        double registryClient =
            time(
                rounds,
                length,
                (o, l) -> drain(client.openRange(repo, descriptor.digest(), blob.length, o, l)));
        System.out.printf(
            "%d MiB ranges: HttpURLConnection %.0f MiB/s (baseline 1.00)%n", mib, base);
        System.out.printf(
            "%d MiB ranges: HttpClient        %.0f MiB/s (%.2f x baseline)%n",
            mib, jdkClient, jdkClient / base);
        System.out.printf(
            "%d MiB ranges: RegistryClient    %.0f MiB/s (%.2f x baseline)%n",
            mib, registryClient, registryClient / base);
      }
    }
  }

  @FunctionalInterface
  private interface RangeRead {
    long read(long offset, long length) throws Exception;
  }

  /** MiB/s over {@code rounds} reads at random offsets. */
  private static double time(int rounds, long length, RangeRead read) throws Exception {
    Random random = new Random(7);
    long bytes = 0;
    long start = System.nanoTime();
    for (int i = 0; i < rounds; i++) {
      long offset = (long) (random.nextDouble() * (BLOB_BYTES - length));
      bytes += read.read(offset, length);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return bytes / (1024.0 * 1024.0) / seconds;
  }

  private static long urlConnection(URI uri, long offset, long length) throws IOException {
    var connection = (HttpURLConnection) uri.toURL().openConnection();
    connection.setRequestProperty("Range", "bytes=" + offset + "-" + (offset + length - 1));
    connection.setRequestProperty("Accept-Encoding", "identity");
    return drain(connection.getInputStream());
  }

  private static long httpClient(HttpClient client, URI uri, long offset, long length)
      throws Exception {
    var request =
        java.net.http.HttpRequest.newBuilder(uri)
            .header("Range", "bytes=" + offset + "-" + (offset + length - 1))
            .timeout(Duration.ofSeconds(30))
            .build();
    return drain(client.send(request, BodyHandlers.ofInputStream()).body());
  }

  private static long drain(InputStream in) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    long total = 0;
    try (in) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        total += n;
      }
    }
    return total;
  }
}
