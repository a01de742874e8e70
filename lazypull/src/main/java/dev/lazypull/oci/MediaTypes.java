package dev.lazypull.oci;

/** Media types and annotation keys of the OCI, Docker and SOCI formats. */
public final class MediaTypes {
  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
  public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
  public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
  public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
  public static final String DOCKER_LIST =
      "application/vnd.docker.distribution.manifest.list.v2+json";
  public static final String DOCKER_MANIFEST =
      "application/vnd.docker.distribution.manifest.v2+json";
  public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
  public static final String DOCKER_LAYER_GZIP =
      "application/vnd.docker.image.rootfs.diff.tar.gzip";

  public static final String SOCI_INDEX_V1 = "application/vnd.amazon.soci.index.v1+json";
  public static final String SOCI_INDEX_V2 = "application/vnd.amazon.soci.index.v2+json";
  public static final String SOCI_ZTOC = "application/octet-stream";

  public static final String ANN_SOCI_LAYER_DIGEST = "com.amazon.soci.image-layer-digest";
  public static final String ANN_SOCI_LAYER_MEDIA_TYPE = "com.amazon.soci.image-layer-mediaType";
  public static final String ANN_SOCI_SPAN_SIZE = "com.amazon.soci.span-size";
  public static final String ANN_SOCI_BUILD_TOOL = "com.amazon.soci.build-tool-identifier";
  public static final String ANN_SOCI_INDEX_DIGEST = "com.amazon.soci.index-digest";
  public static final String ANN_SOCI_MANIFEST_DIGEST = "com.amazon.soci.image-manifest-digest";

  private MediaTypes() {}

  /** Whether a manifest of this type is a list of per-platform manifests. */
  public static boolean isIndex(String mediaType) {
    return mediaType.equals(OCI_INDEX) || mediaType.equals(DOCKER_LIST);
  }

  /** Whether a layer of this type is gzip-compressed tar. */
  public static boolean isGzipLayer(String mediaType) {
    return mediaType.equals(OCI_LAYER_GZIP) || mediaType.equals(DOCKER_LAYER_GZIP);
  }
}
