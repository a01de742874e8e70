/** The FUSE kernel protocol spoken on /dev/fuse through FFM. Nothing here knows images. */
@NullMarked
package dev.lazypull.fuse;

import org.jspecify.annotations.NullMarked;
