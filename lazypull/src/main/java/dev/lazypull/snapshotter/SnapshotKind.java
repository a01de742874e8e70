package dev.lazypull.snapshotter;

/**
 * What a snapshot is for. Allowed transitions: ACTIVE -> COMMITTED (Commit, under a new name);
 * every kind -> gone (Remove, once no snapshot names it as parent). VIEW and COMMITTED never change
 * kind.
 */
public enum SnapshotKind {
  /** Read-only, made by View; never a parent. */
  VIEW,
  /** Writable, made by Prepare; becomes COMMITTED by Commit. */
  ACTIVE,
  /** Read-only and immutable; may be a parent. */
  COMMITTED
}
