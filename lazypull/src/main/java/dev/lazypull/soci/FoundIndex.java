package dev.lazypull.soci;

import dev.lazypull.oci.Digest;
import dev.lazypull.registry.ResolvedImage;
import java.util.List;
import java.util.Optional;

/**
 * The SOCI index found for an image, checked against it: every zTOC names a layer of the image.
 *
 * @param image the platform image the index belongs to
 * @param index the index
 * @param source how it was found
 * @param layers the image layers that have a zTOC, in image-layer order
 */
public record FoundIndex(
    ResolvedImage image, SociIndex index, IndexSource source, List<LayerZtoc> layers) {

  public FoundIndex {
    layers = List.copyOf(layers);
  }

  /** The zTOC of a layer, or empty when the layer has none (fetch it whole). */
  public Optional<LayerZtoc> forLayer(Digest layerDigest) {
    return layers.stream().filter(l -> l.layer().digest().equals(layerDigest)).findFirst();
  }
}
