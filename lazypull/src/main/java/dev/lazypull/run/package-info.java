/**
 * Running an image's process with runc: the OCI runtime bundle made from the image config and the
 * user's overrides, user lookup inside the image, the overlay over the lazy mount, and runc itself.
 * Follows the OCI runtime-spec and Docker's conventions for entrypoint and cmd.
 */
@NullMarked
package dev.lazypull.run;

import org.jspecify.annotations.NullMarked;
