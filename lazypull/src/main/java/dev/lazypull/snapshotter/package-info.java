/**
 * lazypull's containerd snapshotter: containerd's snapshots gRPC service on a unix socket, with
 * snapshot metadata in SQLite and directories laid out like containerd's overlayfs snapshotter.
 */
@NullMarked
package dev.lazypull.snapshotter;

import org.jspecify.annotations.NullMarked;
