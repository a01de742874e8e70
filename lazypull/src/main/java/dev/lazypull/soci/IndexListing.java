package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.Platform;

/**
 * One SOCI index a registry holds for an image.
 *
 * @param index the index manifest's descriptor
 * @param version v1 or v2
 * @param source where it was found
 * @param imageManifest the image manifest it indexes
 * @param platform that image's platform
 */
public record IndexListing(
    Descriptor index,
    IndexVersion version,
    IndexSource source,
    Digest imageManifest,
    Platform platform) {}
