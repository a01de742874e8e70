/** Thin FFM bindings to the Linux C library calls the FUSE transport needs. */
@NullMarked
package dev.lazypull.fuse.linux;

import org.jspecify.annotations.NullMarked;
