package dev.lazypull.registry;

/** What a blob push did. */
public enum BlobPushOutcome {
  /** The repository already had the blob: nothing was sent. */
  ALREADY_PRESENT,
  /** The registry linked the blob from another repository: nothing was sent. */
  MOUNTED,
  /** The bytes were uploaded. */
  UPLOADED
}
