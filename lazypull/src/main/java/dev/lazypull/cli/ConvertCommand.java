package dev.lazypull.cli;

import dev.lazypull.registry.ImageReference;
import dev.lazypull.soci.Conversion;
import dev.lazypull.soci.ConvertedImage;
import dev.lazypull.soci.ImageConverter;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lazypull convert SRC DST}: pushes a SOCI-enabled (index v2) copy of an image. */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    description = {
      "Make a SOCI-enabled image (index v2) from SRC and push it as DST.",
      "DST is an ordinary OCI image index: its image manifests carry the SOCI index digest."
    })
public final class ConvertCommand implements Callable<Integer>, CommandFailure.Action {

  @Spec CommandSpec spec;

  @Mixin RegistryOptionsMixin registry;

  @Mixin IndexingOptionsMixin indexing;

  @Option(names = "--all-platforms", description = "Convert every platform of an image index.")
  boolean allPlatforms;

  @Parameters(index = "0", paramLabel = "SRC", description = "The image to convert.")
  String source;

  @Parameters(index = "1", paramLabel = "DST", description = "Where to push the result (a tag).")
  String destination;

  @Override
  public String action() {
    return "convert " + source + " " + destination;
  }

  @Override
  public Integer call() throws Exception {
    var converter =
        new ImageConverter(registry.client(), indexing.options(registry.platform(), allPlatforms));
    Conversion conversion =
        converter.convert(ImageReference.parse(source), ImageReference.parse(destination));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    for (ConvertedImage image : conversion.images()) {
      out.printf(
          "%s: image manifest %s, SOCI index %s (%d zTOCs)%n",
          image.platform(),
          image.manifest().digest(),
          image.index().digest(),
          image.index().ztocs().size());
      LayerResults.print(image.layers(), out, err);
    }
    out.printf("pushed %s (OCI index %s)%n", conversion.destination(), conversion.indexDigest());
    out.flush();
    err.flush();
    return 0;
  }
}
