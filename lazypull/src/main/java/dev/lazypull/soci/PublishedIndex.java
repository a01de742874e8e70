package dev.lazypull.soci;

import dev.lazypull.registry.ResolvedImage;
import java.util.List;

/**
 * A v1 index pushed for an image.
 *
 * @param image the image it refers to (its subject)
 * @param index the index
 * @param source REFERRERS_API when the registry links it, REFERRERS_TAG when the fallback tag does
 * @param layers what indexing did with each layer, in layer order
 */
public record PublishedIndex(
    ResolvedImage image, SociIndex index, IndexSource source, List<LayerIndexResult> layers) {}
