package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Platform;
import java.util.List;

/**
 * One platform's image after conversion.
 *
 * @param platform its platform
 * @param source the source image manifest's descriptor
 * @param manifest the new image manifest's descriptor (carries the index annotation)
 * @param index the SOCI index pushed for it
 * @param layers what indexing did with each layer, in layer order
 */
public record ConvertedImage(
    Platform platform,
    Descriptor source,
    Descriptor manifest,
    SociIndex index,
    List<LayerIndexResult> layers) {}
