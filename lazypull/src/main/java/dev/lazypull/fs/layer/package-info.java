/**
 * Uncompressed bytes of a layer by offset, from wherever they are: spans fetched on demand with
 * ranged GETs and checked against the zTOC, the span cache, or a whole layer kept on local disk.
 */
@NullMarked
package dev.lazypull.fs.layer;

import org.jspecify.annotations.NullMarked;
