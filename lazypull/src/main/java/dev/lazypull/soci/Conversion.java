package dev.lazypull.soci;

import dev.lazypull.oci.Digest;
import dev.lazypull.registry.ImageReference;
import java.util.List;

/**
 * A finished conversion.
 *
 * @param destination the tag that now names the SOCI-enabled image
 * @param indexDigest the digest of the OCI image index pushed under that tag
 * @param images the converted platform images, in index order
 */
public record Conversion(
    ImageReference destination, Digest indexDigest, List<ConvertedImage> images) {}
