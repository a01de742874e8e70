package dev.lazypull.cli;

import dev.lazypull.registry.ImageReference;
import dev.lazypull.soci.IndexListing;
import dev.lazypull.soci.SociIndexFinder;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lazypull index list IMAGE}: the v2 and v1 indexes of an image. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = "List the SOCI indexes of IMAGE: v2 (image annotation) and v1 (referrers).")
public final class IndexListCommand implements Callable<Integer>, CommandFailure.Action {

  @Spec CommandSpec spec;

  @Mixin RegistryOptionsMixin registry;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Parameters(index = "0", paramLabel = "IMAGE")
  String image;

  @Override
  public String action() {
    return "index list " + image;
  }

  @Override
  public Integer call() throws Exception {
    List<IndexListing> listings =
        new SociIndexFinder(registry.client()).list(ImageReference.parse(image));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Json.print(out, listings.stream().map(IndexListCommand::describe).toList());
      return 0;
    }
    if (listings.isEmpty()) {
      out.println("no SOCI index for " + image + " (make one with `lazypull convert`)");
    } else {
      out.printf(
          "%-7s %-71s %-16s %-12s %s%n", "VERSION", "INDEX", "FOUND VIA", "PLATFORM", "IMAGE");
      for (IndexListing l : listings) {
        out.printf(
            "%-7s %-71s %-16s %-12s %s%n",
            l.version(),
            l.index().digest(),
            l.source().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'),
            l.platform(),
            l.imageManifest().shortHex());
      }
    }
    out.flush();
    return 0;
  }

  private static Map<String, Object> describe(IndexListing l) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("version", l.version().toString());
    m.put("digest", l.index().digest().toString());
    m.put("size", l.index().size());
    m.put("source", l.source().name().toLowerCase(java.util.Locale.ROOT));
    m.put("image_manifest", l.imageManifest().toString());
    m.put("platform", l.platform().toString());
    return m;
  }
}
