package dev.lazypull.ztoc;

import dev.lazypull.zlib.NativeInflater;
import dev.lazypull.zlib.ZlibException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Inflates a gzip layer starting at a checkpoint instead of the beginning: raw inflate, the pending
 * bits of the byte before the checkpoint primed in, the checkpoint's window as the dictionary.
 * Follows the stream across gzip member boundaries.
 */
final class CheckpointInflater implements AutoCloseable {

  /** Receives inflated bytes; returns false once it has all it wants. */
  interface Sink {
    boolean accept(long uncompressedOffset, byte[] bytes, int length) throws IOException;
  }

  private static final int CHUNK = 1 << 18;
  private static final int GZIP_TRAILER_SIZE = 8;

  private final Arena arena = Arena.ofConfined();
  private final NativeInflater inflater = new NativeInflater(NativeInflater.RAW);
  private final MemorySegment nativeInput = arena.allocate(CHUNK);
  private final MemorySegment nativeOutput = arena.allocate(CHUNK);
  private final byte[] output = new byte[CHUNK];
  private long uncompressedOffset;
  private boolean raw = true;
  private int trailerToSkip;
  private boolean betweenMembers;
  private boolean done;

  /**
   * @param bitsByte byte {@code in - 1} of the layer when the checkpoint has pending bits
   */
  CheckpointInflater(Checkpoint checkpoint, byte[] window, int bitsByte) {
    if (checkpoint.bits() != 0) {
      inflater.prime(checkpoint.bits(), (bitsByte & 0xff) >> (8 - checkpoint.bits()));
    }
    MemorySegment dictionary = arena.allocate(window.length);
    MemorySegment.copy(window, 0, dictionary, ValueLayout.JAVA_BYTE, 0, window.length);
    inflater.setDictionary(dictionary);
    this.uncompressedOffset = checkpoint.uncompressedOffset();
  }

  /** Feeds compressed bytes {@code [from, to)}; false once the sink is satisfied. */
  boolean feed(byte[] compressed, int from, int to, Sink sink) throws IOException {
    for (int at = from; at < to && !done; at += CHUNK) {
      int length = Math.min(CHUNK, to - at);
      MemorySegment.copy(compressed, at, nativeInput, ValueLayout.JAVA_BYTE, 0, length);
      inflateChunk(length, sink);
    }
    return !done;
  }

  private void inflateChunk(int length, Sink sink) throws IOException {
    int position = 0;
    while (position < length && !done) {
      if (trailerToSkip > 0) {
        int skipped = Math.min(trailerToSkip, length - position);
        position += skipped;
        trailerToSkip -= skipped;
        betweenMembers = trailerToSkip == 0;
        continue;
      }
      if (betweenMembers) {
        position = skipPadding(position, length);
        continue;
      }
      inflater.setInput(nativeInput, position, length - position);
      inflater.setOutput(nativeOutput, 0, CHUNK);
      boolean memberEnded = inflate();
      position = length - inflater.availIn();
      int produced = CHUNK - inflater.availOut();
      if (produced > 0) {
        MemorySegment.copy(nativeOutput, ValueLayout.JAVA_BYTE, 0, output, 0, produced);
        done = !sink.accept(uncompressedOffset, output, produced);
        uncompressedOffset += produced;
      }
      if (memberEnded) {
        endMember();
      }
    }
  }

  private boolean inflate() throws ZtocException {
    try {
      return inflater.inflate();
    } catch (ZlibException e) {
      throw new ZtocException(
          "inflating from a checkpoint failed near uncompressed offset "
              + uncompressedOffset
              + ": "
              + e.getMessage()
              + " (the zTOC does not match the layer?)",
          e);
    }
  }

  /**
   * Skips zero bytes after a member, as the index builder does: some tools pad layers to a block
   * size, and a gzip member starts with 0x1f, never 0. At the next member's first byte, zlib is
   * reset to parse its gzip header.
   */
  private int skipPadding(int position, int length) {
    while (position < length) {
      if (nativeInput.get(ValueLayout.JAVA_BYTE, position) != 0) {
        betweenMembers = false;
        inflater.reset(NativeInflater.GZIP_OR_ZLIB);
        break;
      }
      position++;
    }
    return position;
  }

  private void endMember() {
    if (raw) {
      // Raw mode stops before the member's trailer (CRC32 and size); skip it by hand.
      raw = false;
      trailerToSkip = GZIP_TRAILER_SIZE;
    } else {
      betweenMembers = true;
    }
  }

  @Override
  public void close() {
    inflater.close();
    arena.close();
  }
}
