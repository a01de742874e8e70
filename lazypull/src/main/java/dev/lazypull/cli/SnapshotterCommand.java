package dev.lazypull.cli;

import dev.lazypull.snapshotter.RemoteLayerMounter;
import dev.lazypull.snapshotter.Snapshotter;
import dev.lazypull.snapshotter.SnapshotterServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code lazypull snapshotter}: the containerd proxy snapshotter daemon. */
@Command(
    name = "snapshotter",
    mixinStandardHelpOptions = true,
    description = {
      "Serve containerd's snapshots API on a unix socket (a containerd proxy plugin).",
      "containerd's config.toml: [proxy_plugins.lazypull] type = \"snapshot\" address = SOCKET"
    })
public final class SnapshotterCommand implements Callable<Integer>, CommandFailure.Action {
  @Option(
      names = "--root",
      defaultValue = "/var/lib/lazypull/snapshotter",
      description = "Directory for snapshots and their metadata (default: ${DEFAULT-VALUE}).")
  Path root;

  @Option(
      names = "--address",
      defaultValue = "/run/lazypull/snapshotter.sock",
      description = "Unix socket to serve on (default: ${DEFAULT-VALUE}).")
  Path address;

  @Option(
      names = "--cache-size",
      paramLabel = "MIB",
      defaultValue = "10240",
      description = "Size limit of the span cache in MiB (default: ${DEFAULT-VALUE}).")
  long cacheMib;

  @Option(
      names = "--read-timeout",
      paramLabel = "SECONDS",
      defaultValue = "60",
      description = "How long a read may wait for registry bytes (default: ${DEFAULT-VALUE}).")
  long readTimeoutSeconds;

  @Option(
      names = "--no-remote",
      description = "Never serve layers lazily: plain snapshots only (containerd downloads).")
  boolean noRemote;

  @Mixin RegistryOptionsMixin registry;

  @Override
  public String action() {
    return "snapshotter on " + address;
  }

  @Override
  public Integer call() throws Exception {
    Path absoluteRoot = root.toAbsolutePath();
    RemoteLayerMounter remote =
        noRemote
            ? null
            : new RemoteLayerMounter(
                registry.client(),
                absoluteRoot.resolve("cache"),
                cacheMib << 20,
                Duration.ofSeconds(readTimeoutSeconds));
    var snapshotter = Snapshotter.open(absoluteRoot, remote);
    SnapshotterServer server;
    try {
      server = SnapshotterServer.start(snapshotter, address.toAbsolutePath());
    } catch (Exception e) {
      snapshotter.close();
      throw e;
    }
    var closed = new CountDownLatch(1);
    // SIGTERM and SIGINT run shutdown hooks: stop serving, then close the metadata database.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try (snapshotter;
                      server) {
                    // closing both is the point
                  } catch (Exception e) {
                    // The process is ending; the next start replaces the socket file.
                  } finally {
                    closed.countDown();
                  }
                }));
    server.awaitTermination();
    closed.await();
    return 0;
  }
}
