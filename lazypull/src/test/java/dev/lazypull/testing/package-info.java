/**
 * Test helpers shared by several packages: layers generated in code, and real parts (Debian images,
 * registries).
 */
@NullMarked
package dev.lazypull.testing;

import org.jspecify.annotations.NullMarked;
