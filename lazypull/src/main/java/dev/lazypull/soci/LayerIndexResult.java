package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.ztoc.Ztoc;

/** What indexing one layer gave: a zTOC, or a reason why the layer has none. */
public sealed interface LayerIndexResult {

  /** The image layer. */
  Descriptor layer();

  /** The layer got a zTOC; {@code bytes} is its encoding, {@code descriptor} names it. */
  record Indexed(Descriptor layer, Ztoc ztoc, byte[] bytes, Descriptor descriptor)
      implements LayerIndexResult {}

  /**
   * The layer gets no zTOC and is fetched whole at run time.
   *
   * @param warn whether the user should hear about it (sparse, zstd) or it is expected (small)
   */
  record Skipped(Descriptor layer, String reason, boolean warn) implements LayerIndexResult {}
}
