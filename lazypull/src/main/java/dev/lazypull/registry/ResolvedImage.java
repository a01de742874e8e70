package dev.lazypull.registry;

import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.Platform;
import org.jspecify.annotations.Nullable;

/**
 * An image reference resolved to one platform's image manifest.
 *
 * @param requested the reference the user gave
 * @param manifest the platform's image manifest (its digest identifies the image)
 * @param index the index it was picked from, or null when the reference named a manifest
 * @param platform the platform it was resolved for
 */
public record ResolvedImage(
    ImageReference requested,
    FetchedManifest manifest,
    @Nullable FetchedManifest index,
    Platform platform) {

  /** The parsed image manifest. */
  public ImageManifest imageManifest() {
    return manifest.manifest();
  }

  /** The image pinned by digest: same repository, the platform manifest's digest. */
  public ImageReference pinned() {
    return requested.withDigest(manifest.digest());
  }
}
