/** Test helpers that bring up real parts: Debian images, registries, mounts. */
@NullMarked
package dev.lazypull.testing;

import org.jspecify.annotations.NullMarked;
