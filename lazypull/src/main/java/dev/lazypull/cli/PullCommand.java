package dev.lazypull.cli;

import dev.lazypull.containerd.ContainerdConnection;
import dev.lazypull.containerd.ContainerdPuller;
import dev.lazypull.registry.ImageReference;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lazypull pull IMAGE}: records an image in containerd with lazily served layers. */
@Command(
    name = "pull",
    mixinStandardHelpOptions = true,
    description = {
      "Pull a SOCI-indexed image into containerd without downloading its layers: they are",
      "served lazily by the lazypull snapshotter (which must be running as containerd's",
      "proxy plugin). Then: ctr run --snapshotter lazypull IMAGE ID"
    })
public final class PullCommand implements Callable<Integer>, CommandFailure.Action {
  @Parameters(index = "0", paramLabel = "IMAGE", description = "The image reference.")
  String image;

  @Option(
      names = "--address",
      defaultValue = "/run/containerd/containerd.sock",
      description = "containerd's socket (default: ${DEFAULT-VALUE}).")
  Path address;

  @Option(
      names = {"-n", "--namespace"},
      defaultValue = "default",
      description = "containerd namespace (default: ${DEFAULT-VALUE}).")
  String namespace;

  @Option(
      names = "--snapshotter",
      defaultValue = "lazypull",
      description =
          "The proxy snapshotter's name in containerd's config (default: ${DEFAULT-VALUE}).")
  String snapshotter;

  @Mixin RegistryOptionsMixin registry;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public String action() {
    return "pull " + image;
  }

  @Override
  public Integer call() throws Exception {
    try (var containerd = ContainerdConnection.open(address)) {
      var pulled =
          new ContainerdPuller(registry.client(), containerd, namespace, snapshotter)
              .pull(ImageReference.parse(image));
      spec.commandLine()
          .getOut()
          .println(
              "pulled "
                  + pulled.name()
                  + " ("
                  + pulled.manifest()
                  + ", "
                  + pulled.chainIds().size()
                  + " layers served by "
                  + snapshotter
                  + ")");
    }
    return 0;
  }
}
