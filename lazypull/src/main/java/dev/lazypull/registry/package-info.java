/**
 * The OCI distribution client: image references, manifests, whole and ranged blob reads, pushes,
 * referrers and registry authentication. Knows nothing of FUSE or SOCI. Entry point: {@link
 * dev.lazypull.registry.RegistryClient}.
 */
@NullMarked
package dev.lazypull.registry;

import org.jspecify.annotations.NullMarked;
