package dev.lazypull.estargz;

import java.io.IOException;

/** Where an eStargz blob's bytes come from: a registry by ranged GET, a file, an array. */
@FunctionalInterface
public interface BlobBytes {
  /** Exactly the bytes {@code [blobOffset, blobOffset + length)} of the blob. */
  byte[] read(long blobOffset, int length) throws IOException;
}
