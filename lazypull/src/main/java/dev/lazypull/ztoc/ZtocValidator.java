package dev.lazypull.ztoc;

import java.util.List;

/** Checks a decoded zTOC for internal consistency before anyone trusts its offsets. */
final class ZtocValidator {
  private ZtocValidator() {}

  static void validate(Ztoc ztoc, String what) throws ZtocException {
    try {
      check(ztoc);
    } catch (ZtocException e) {
      throw new ZtocException("invalid zTOC " + what + ": " + e.getMessage(), e);
    }
  }

  private static void check(Ztoc ztoc) throws ZtocException {
    if (ztoc.compressedArchiveSize() < 0 || ztoc.uncompressedArchiveSize() < 0) {
      throw new ZtocException("negative archive size");
    }
    CompressionInfo info = ztoc.compressionInfo();
    int spans = info.layout().spanCount();
    if (info.spanDigests().size() != spans) {
      throw new ZtocException(info.spanDigests().size() + " span digests for " + spans + " spans");
    }
    switch (info.layout()) {
      case GzipCheckpoints g -> checkCheckpoints(g.checkpoints(), ztoc);
      case TarZinfo t -> checkTar(t, ztoc);
    }
    for (FileMetadata file : ztoc.files()) {
      if (file.uncompressedOffset() < 0
          || file.uncompressedSize() < 0
          || file.uncompressedEnd() > ztoc.uncompressedArchiveSize()
          || file.uncompressedEnd() < 0) {
        throw new ZtocException(
            "entry '"
                + ByteText.textOrHex(file.nameBytes())
                + "' at offset "
                + file.uncompressedOffset()
                + " size "
                + file.uncompressedSize()
                + " lies outside the "
                + ztoc.uncompressedArchiveSize()
                + "-byte uncompressed layer");
      }
    }
  }

  private static void checkCheckpoints(List<Checkpoint> checkpoints, Ztoc ztoc)
      throws ZtocException {
    if (!checkpoints.isEmpty() && checkpoints.getFirst().uncompressedOffset() != 0) {
      throw new ZtocException(
          "the first checkpoint starts at uncompressed offset "
              + checkpoints.getFirst().uncompressedOffset()
              + ", not 0");
    }
    Checkpoint previous = null;
    for (int i = 0; i < checkpoints.size(); i++) {
      Checkpoint c = checkpoints.get(i);
      boolean bad =
          c.bits() < 0
              || c.bits() > 7
              || c.spanCompressedStart() < 0
              || c.compressedOffset() > ztoc.compressedArchiveSize()
              || c.uncompressedOffset() < 0
              || c.uncompressedOffset() > ztoc.uncompressedArchiveSize()
              || (previous != null
                  && (c.compressedOffset() <= previous.compressedOffset()
                      || c.uncompressedOffset() < previous.uncompressedOffset()));
      if (bad) {
        throw new ZtocException(
            "checkpoint "
                + i
                + " (in "
                + c.compressedOffset()
                + ", out "
                + c.uncompressedOffset()
                + ", bits "
                + c.bits()
                + ") is out of order or past the layer ("
                + ztoc.compressedArchiveSize()
                + " compressed, "
                + ztoc.uncompressedArchiveSize()
                + " uncompressed bytes)");
      }
      previous = c;
    }
  }

  private static void checkTar(TarZinfo t, Ztoc ztoc) throws ZtocException {
    if (t.size() != ztoc.uncompressedArchiveSize()) {
      throw new ZtocException(
          "tar span info says "
              + t.size()
              + " bytes, the zTOC says "
              + ztoc.uncompressedArchiveSize());
    }
  }
}
