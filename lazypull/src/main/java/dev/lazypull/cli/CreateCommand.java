package dev.lazypull.cli;

import dev.lazypull.registry.ImageReference;
import dev.lazypull.soci.PublishedIndex;
import dev.lazypull.soci.V1IndexPublisher;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lazypull create IMAGE}: pushes a v1 SOCI index that refers to the image. */
@Command(
    name = "create",
    mixinStandardHelpOptions = true,
    description = {
      "Build the zTOCs of IMAGE and push a SOCI index v1 with the image as its subject.",
      "Registries without the referrers API get the sha256-<hex> fallback tag."
    })
public final class CreateCommand implements Callable<Integer>, CommandFailure.Action {

  @Spec CommandSpec spec;

  @Mixin RegistryOptionsMixin registry;

  @Mixin IndexingOptionsMixin indexing;

  @Parameters(index = "0", paramLabel = "IMAGE")
  String image;

  @Override
  public String action() {
    return "create " + image;
  }

  @Override
  public Integer call() throws Exception {
    var publisher =
        new V1IndexPublisher(registry.client(), indexing.options(registry.platform(), false));
    PublishedIndex published = publisher.publish(ImageReference.parse(image));
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "%s (%s, %s): SOCI index v1 %s (%d zTOCs), linked through %s%n",
        published.image().requested(),
        published.image().platform(),
        published.image().manifest().digest(),
        published.index().digest(),
        published.index().ztocs().size(),
        published.source() == dev.lazypull.soci.IndexSource.REFERRERS_API
            ? "the referrers API"
            : "the referrers tag sha256-" + published.image().manifest().digest().hex());
    LayerResults.print(published.layers(), out, spec.commandLine().getErr());
    out.flush();
    spec.commandLine().getErr().flush();
    return 0;
  }
}
