package dev.lazypull.snapshotter;

/** Label names containerd and lazypull put on snapshots (FORMATS.md section 6). */
public final class SnapshotLabels {
  /** The chain id containerd wants committed; set on Prepare of an image layer. */
  public static final String TARGET_REF = "containerd.io/snapshot.ref";

  public static final String IMAGE_REF = "containerd.io/snapshot/cri.image-ref";
  public static final String MANIFEST_DIGEST = "containerd.io/snapshot/cri.manifest-digest";
  public static final String LAYER_DIGEST = "containerd.io/snapshot/cri.layer-digest";
  public static final String IMAGE_LAYERS = "containerd.io/snapshot/cri.image-layers";

  /** Set by lazypull on snapshots whose layer it serves lazily. */
  public static final String REMOTE = "containerd.io/snapshot/lazypull.remote";

  private SnapshotLabels() {}
}
