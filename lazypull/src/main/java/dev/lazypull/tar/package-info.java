/** A streaming reader of tar headers that reports exact data offsets in the uncompressed stream. */
@NullMarked
package dev.lazypull.tar;

import org.jspecify.annotations.NullMarked;
