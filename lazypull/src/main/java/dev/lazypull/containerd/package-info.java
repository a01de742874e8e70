/**
 * A small client of containerd's gRPC API (content, images, leases, snapshots) for {@code lazypull
 * pull}: it records an image in containerd with its layers prepared as remote snapshots.
 */
@NullMarked
package dev.lazypull.containerd;

import org.jspecify.annotations.NullMarked;
