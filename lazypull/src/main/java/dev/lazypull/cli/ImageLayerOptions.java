package dev.lazypull.cli;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.soci.FoundIndex;
import dev.lazypull.soci.LayerZtoc;
import dev.lazypull.soci.SociException;
import dev.lazypull.soci.SociIndexFinder;
import dev.lazypull.ztoc.Ztoc;
import java.io.IOException;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code --image IMAGE --layer DIGEST}: take a zTOC from the image's SOCI index in a registry. */
public final class ImageLayerOptions {

  @Option(
      names = "--image",
      paramLabel = "IMAGE",
      description = "Take the zTOC from this image's SOCI index instead of a file.")
  @Nullable String image;

  @Option(
      names = "--layer",
      paramLabel = "DIGEST",
      description = "The image layer (its digest, or a unique prefix of its hex).")
  @Nullable String layer;

  @Option(names = "--index", paramLabel = "DIGEST", description = "Use this SOCI index.")
  @Nullable String index;

  @Option(names = "--allow-v1", description = "Also use v1 indexes found through referrers.")
  boolean allowV1;

  /** A zTOC fetched through an image's index, with the layer it indexes. */
  record Loaded(FoundIndex found, LayerZtoc layer, Ztoc ztoc) {}

  boolean used() {
    return image != null || layer != null || index != null;
  }

  /** Usage error unless --image and --layer come together. */
  void check(CommandSpec spec) {
    if (image == null || layer == null) {
      throw new ParameterException(
          spec.commandLine(),
          image == null && layer == null
              ? "give a zTOC file, or --image and --layer to take it from a registry"
              : "--image and --layer go together (and replace the file arguments)");
    }
  }

  Loaded load(RegistryClient client) throws RegistryException, IOException {
    String imageText = java.util.Objects.requireNonNull(image);
    String layerText = java.util.Objects.requireNonNull(layer);
    var finder = new SociIndexFinder(client);
    Digest explicit = index == null ? null : Digest.parse(index);
    FoundIndex found = finder.find(ImageReference.parse(imageText), explicit, allowV1);
    Descriptor imageLayer = pickLayer(found, layerText);
    LayerZtoc layerZtoc =
        found
            .forLayer(imageLayer.digest())
            .orElseThrow(
                () ->
                    new SociException(
                        "layer "
                            + imageLayer.digest()
                            + " of "
                            + imageText
                            + " has no zTOC in index "
                            + found.index().digest()
                            + " (too small or not indexable: it is fetched whole); pick another"
                            + " layer from `lazypull index info "
                            + imageText
                            + "`"));
    return new Loaded(found, layerZtoc, finder.fetchZtoc(found, layerZtoc));
  }

  private static Descriptor pickLayer(FoundIndex found, String text) throws SociException {
    String hex = text.startsWith("sha256:") ? text.substring("sha256:".length()) : text;
    List<Descriptor> matches =
        found.image().imageManifest().layers().stream()
            .filter(l -> !hex.isEmpty() && l.digest().hex().startsWith(hex))
            .distinct()
            .toList();
    if (matches.size() != 1) {
      throw new SociException(
          (matches.isEmpty() ? "no layer " : "more than one layer matches ")
              + text
              + " in "
              + found.image().requested()
              + " ("
              + found.image().platform()
              + "); list its layers with `lazypull index info "
              + found.image().requested()
              + "`");
    }
    return matches.getFirst();
  }
}
