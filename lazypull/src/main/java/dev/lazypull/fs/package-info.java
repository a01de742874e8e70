/**
 * The lazy filesystem: an image's merged tree served through lazypull's FUSE transport, with file
 * bytes read from the layers on demand.
 */
@NullMarked
package dev.lazypull.fs;

import org.jspecify.annotations.NullMarked;
