package dev.lazypull.soci;

/** How an index was found, most trusted first. */
public enum IndexSource {
  /** A digest the user gave. */
  EXPLICIT_DIGEST,
  /** The {@code com.amazon.soci.index-digest} annotation of the image manifest (v2). */
  IMAGE_ANNOTATION,
  /** The registry's referrers API (v1: anyone who can push can add one). */
  REFERRERS_API,
  /** The {@code sha256-<hex>} referrers fallback tag (v1: as weak as the referrers API). */
  REFERRERS_TAG;

  /** Whether the index is bound to the image by a digest chain the image itself holds. */
  public boolean trustedByImage() {
    return this == EXPLICIT_DIGEST || this == IMAGE_ANNOTATION;
  }
}
