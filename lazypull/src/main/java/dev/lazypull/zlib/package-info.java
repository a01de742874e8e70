/**
 * zlib's inflate bound through the FFM API, for what java.util.zip cannot do (Z_BLOCK,
 * inflatePrime).
 */
@NullMarked
package dev.lazypull.zlib;

import org.jspecify.annotations.NullMarked;
