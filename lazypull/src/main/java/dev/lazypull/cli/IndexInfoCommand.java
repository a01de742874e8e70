package dev.lazypull.cli;

import dev.lazypull.oci.Digest;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.soci.FoundIndex;
import dev.lazypull.soci.LayerZtoc;
import dev.lazypull.soci.SociIndexFinder;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lazypull index info IMAGE}: the index manifest of an image and its zTOC layers. */
@Command(
    name = "info",
    mixinStandardHelpOptions = true,
    description = "Show the SOCI index of IMAGE: its manifest and the zTOC of each layer.")
public final class IndexInfoCommand implements Callable<Integer>, CommandFailure.Action {

  @Spec CommandSpec spec;

  @Mixin RegistryOptionsMixin registry;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Option(names = "--index", paramLabel = "DIGEST", description = "Show this index.")
  @Nullable String indexDigest;

  @Option(
      names = "--no-v1",
      description = "Ignore v1 indexes found through referrers (they are shown by default).")
  boolean noV1;

  @Parameters(index = "0", paramLabel = "IMAGE")
  String image;

  @Override
  public String action() {
    return "index info " + image;
  }

  @Override
  public Integer call() throws Exception {
    Digest explicit = indexDigest == null ? null : Digest.parse(indexDigest);
    FoundIndex found =
        new SociIndexFinder(registry.client()).find(ImageReference.parse(image), explicit, !noV1);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("digest", found.index().digest().toString());
      m.put("version", found.index().version().toString());
      m.put("source", found.source().name().toLowerCase(java.util.Locale.ROOT));
      m.put("image_manifest", found.image().manifest().digest().toString());
      m.put("platform", found.image().platform().toString());
      m.put("manifest", found.index().manifest());
      m.put("ztocs", found.layers().stream().map(IndexInfoCommand::describe).toList());
      Json.print(out, m);
      return 0;
    }
    out.printf("SOCI index %s (%s)%n", found.index().digest(), found.index().version());
    out.printf("  found via     %s%n", found.source());
    out.printf(
        "  image         %s (%s, %s)%n",
        found.image().requested(), found.image().platform(), found.image().manifest().digest());
    out.printf(
        "  zTOCs         %d of %d layers%n",
        found.layers().size(), found.image().imageManifest().layers().size());
    out.println("manifest:");
    out.println(
        dev.lazypull.oci.OciJson.MAPPER
            .writerWithDefaultPrettyPrinter()
            .writeValueAsString(found.index().manifest()));
    out.printf("%-19s %12s  %-71s %8s %10s%n", "LAYER", "LAYER SIZE", "ZTOC", "SIZE", "SPAN SIZE");
    for (LayerZtoc l : found.layers()) {
      out.printf(
          "%-19s %12d  %-71s %8d %10d%n",
          l.layer().digest().shortHex(),
          l.layer().size(),
          l.ztoc().digest(),
          l.ztoc().size(),
          l.spanSize());
    }
    out.flush();
    return 0;
  }

  private static Map<String, Object> describe(LayerZtoc l) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("layer", l.layer().digest().toString());
    m.put("layer_size", l.layer().size());
    m.put("layer_media_type", l.layer().mediaType());
    m.put("ztoc", l.ztoc().digest().toString());
    m.put("ztoc_size", l.ztoc().size());
    m.put("span_size", l.spanSize());
    return m;
  }
}
