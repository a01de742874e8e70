/**
 * Leaf values shared by every other package: digests, descriptors, media types. Depends on nothing
 * in lazypull.
 */
@NullMarked
package dev.lazypull.oci;

import org.jspecify.annotations.NullMarked;
