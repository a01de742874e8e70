package dev.lazypull.registry;

import dev.lazypull.oci.Digest;
import org.jspecify.annotations.Nullable;

/**
 * A manifest the registry accepted.
 *
 * @param digest its digest (sha256 of the bytes sent)
 * @param subject the {@code OCI-Subject} the registry answered, or null; a registry that names the
 *     subject supports the referrers API, so the {@code sha256-<hex>} tag need not be kept
 */
public record PushedManifest(Digest digest, @Nullable Digest subject) {}
