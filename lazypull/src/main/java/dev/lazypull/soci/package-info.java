/**
 * SOCI indexes on a registry: converting an image to a SOCI-enabled one (index v2), pushing a v1
 * index with a subject, and finding the trusted index and zTOCs of an image for a lazy mount.
 */
@NullMarked
package dev.lazypull.soci;

import org.jspecify.annotations.NullMarked;
