/**
 * The merged root filesystem of an image, built from the layers' tar entries with overlay rules:
 * whiteouts, opaque directories, hardlinks sharing inodes, and path resolution that never leaves
 * the root. It knows nothing of zTOCs, the network or FUSE.
 */
@NullMarked
package dev.lazypull.fs.tree;

import org.jspecify.annotations.NullMarked;
