/** SOCI zTOC indexes: the model, the FlatBuffers codec, the builder and the span extractor. */
@NullMarked
package dev.lazypull.ztoc;

import org.jspecify.annotations.NullMarked;
