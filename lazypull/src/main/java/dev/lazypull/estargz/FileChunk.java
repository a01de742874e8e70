package dev.lazypull.estargz;

import dev.lazypull.oci.Digest;
import org.jspecify.annotations.Nullable;

/**
 * One chunk of a regular file, located in the blob.
 *
 * @param name the file's clean name (see {@link TocEntry#cleanName()})
 * @param index the chunk's position in the file, from 0
 * @param fileOffset where the chunk starts in the file
 * @param size the chunk's uncompressed length
 * @param compressedOffset blob offset of the gzip member that holds it
 * @param compressedEnd blob offset where the next payload (or the TOC) starts: the chunk's bytes
 *     lie in {@code [compressedOffset, compressedEnd)}, in one or more gzip members
 * @param innerOffset uncompressed bytes to skip from {@code compressedOffset} on
 * @param digest sha256 of the chunk's uncompressed bytes: its {@code chunkDigest}, or for a file in
 *     one chunk the file's {@code digest}; null when an unverified TOC (legacy stargz) gives
 *     neither, and then nothing checks the chunk's bytes but the whole blob's digest
 */
public record FileChunk(
    String name,
    int index,
    long fileOffset,
    long size,
    long compressedOffset,
    long compressedEnd,
    long innerOffset,
    @Nullable Digest digest) {

  /** The compressed length to fetch. */
  public long compressedLength() {
    return compressedEnd - compressedOffset;
  }

  /** This chunk with {@code digest} as the one its bytes must hash to. */
  public FileChunk withDigest(Digest digest) {
    return new FileChunk(
        name, index, fileOffset, size, compressedOffset, compressedEnd, innerOffset, digest);
  }

  /** Names the chunk in messages. */
  public String describe() {
    return "chunk "
        + index
        + " (file bytes "
        + fileOffset
        + "-"
        + (fileOffset + size)
        + ", blob offset "
        + compressedOffset
        + ") of "
        + name;
  }
}
