/**
 * The on-disk cache of decompressed spans. Spans are written whole to a temporary file and renamed
 * into place, so a span file that exists is complete: a crash leaves at most a temporary file,
 * which the next start deletes.
 */
@NullMarked
package dev.lazypull.fs.cache;

import org.jspecify.annotations.NullMarked;
