package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;

/**
 * One image layer and the zTOC that indexes it.
 *
 * @param layer the image layer's descriptor, from the image manifest
 * @param ztoc the zTOC blob's descriptor, from the SOCI index
 */
public record LayerZtoc(Descriptor layer, Descriptor ztoc) {

  /** The span size the index says the zTOC was built with, or 0 when not annotated. */
  public long spanSize() {
    String text = ztoc.annotationsOrEmpty().get(dev.lazypull.oci.MediaTypes.ANN_SOCI_SPAN_SIZE);
    try {
      return text == null ? 0 : Long.parseLong(text);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
