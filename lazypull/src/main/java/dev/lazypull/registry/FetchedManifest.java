package dev.lazypull.registry;

import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageIndex;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * A manifest or index exactly as the registry sent it: the bytes (digests are over these, keep them
 * to push the document again unchanged), their digest, media type and parsed form.
 */
public final class FetchedManifest {

  private final ImageReference reference;
  private final Digest digest;
  private final String mediaType;
  private final byte[] bytes;
  private final @Nullable ImageManifest manifest;
  private final @Nullable ImageIndex index;

  FetchedManifest(
      ImageReference reference,
      Digest digest,
      String mediaType,
      byte[] bytes,
      @Nullable ImageManifest manifest,
      @Nullable ImageIndex index) {
    this.reference = reference;
    this.digest = digest;
    this.mediaType = mediaType;
    this.bytes = bytes.clone();
    this.manifest = manifest;
    this.index = index;
  }

  /** The reference it was fetched by. */
  public ImageReference reference() {
    return reference;
  }

  /** The sha256 of {@link #bytes()}. */
  public Digest digest() {
    return digest;
  }

  public String mediaType() {
    return mediaType;
  }

  /** The exact bytes fetched. */
  public byte[] bytes() {
    return bytes.clone();
  }

  public long size() {
    return bytes.length;
  }

  public boolean isIndex() {
    return MediaTypes.isIndex(mediaType);
  }

  /** The image manifest; IllegalStateException when this is an index. */
  public ImageManifest manifest() {
    if (manifest == null) {
      throw new IllegalStateException(reference + " is an index, not an image manifest");
    }
    return manifest;
  }

  /** The index; IllegalStateException when this is an image manifest. */
  public ImageIndex index() {
    if (index == null) {
      throw new IllegalStateException(reference + " is an image manifest, not an index");
    }
    return index;
  }

  @Override
  public String toString() {
    return "FetchedManifest["
        + reference
        + " "
        + digest
        + " "
        + mediaType
        + " "
        + bytes.length
        + " bytes]";
  }

  @Override
  public boolean equals(@Nullable Object other) {
    return other instanceof FetchedManifest that
        && digest.equals(that.digest)
        && Arrays.equals(bytes, that.bytes);
  }

  @Override
  public int hashCode() {
    return digest.hashCode();
  }
}
