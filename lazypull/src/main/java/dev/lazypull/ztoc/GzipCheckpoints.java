package dev.lazypull.ztoc;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The checkpoints of a gzip layer and their 32 KiB windows, with the SOCI blob encoding:
 * little-endian {@code int32 count, int64 span_size}, then per checkpoint {@code int64 in, int64
 * out, uint8 bits, 32768 bytes window}.
 *
 * <p>The windows are kept off the Java heap, in one block: they are 32 KiB per span for the life of
 * a mount (32 MB for a 4 GiB layer at 4 MiB spans, as much for 256 MiB at 256 KiB), and a mount's
 * heap is capped small (bin/lazypull) because the collector grows it to the cap under streaming
 * reads. The block is freed when the checkpoints become unreachable.
 */
public final class GzipCheckpoints implements SpanLayout {

  /** Bytes of history a checkpoint carries. */
  public static final int WINDOW_SIZE = 32768;

  static final int HEADER_SIZE = 12;
  static final int ENTRY_SIZE = 8 + 8 + 1 + WINDOW_SIZE;

  private final long spanSize;
  private final List<Checkpoint> checkpoints;
  private final MemorySegment windows; // window i at i * WINDOW_SIZE
  private final boolean firstCheckpointRebuilt;

  /** Wraps checkpoints and their 32 KiB windows (oldest byte first), one per checkpoint. */
  public GzipCheckpoints(long spanSize, List<Checkpoint> checkpoints, List<byte[]> windows) {
    this(spanSize, checkpoints, copyOffHeap(checkpoints, windows), false);
  }

  private GzipCheckpoints(
      long spanSize,
      List<Checkpoint> checkpoints,
      MemorySegment windows,
      boolean firstCheckpointRebuilt) {
    this.spanSize = spanSize;
    this.checkpoints = List.copyOf(checkpoints);
    this.windows = windows;
    this.firstCheckpointRebuilt = firstCheckpointRebuilt;
  }

  private static MemorySegment copyOffHeap(List<Checkpoint> checkpoints, List<byte[]> windows) {
    if (windows.size() != checkpoints.size()
        || windows.stream().anyMatch(w -> w.length != WINDOW_SIZE)) {
      throw new IllegalArgumentException(
          checkpoints.size() + " checkpoints need as many windows of " + WINDOW_SIZE + " bytes");
    }
    MemorySegment block = allocateWindows(windows.size());
    for (int i = 0; i < windows.size(); i++) {
      MemorySegment.copy(windows.get(i), 0, block, JAVA_BYTE, (long) i * WINDOW_SIZE, WINDOW_SIZE);
    }
    return block;
  }

  /** Zero-filled room for {@code count} windows, freed by the garbage collector. */
  private static MemorySegment allocateWindows(int count) {
    return Arena.ofAuto().allocate((long) count * WINDOW_SIZE);
  }

  private MemorySegment windowAt(int index) {
    return windows.asSlice((long) index * WINDOW_SIZE, WINDOW_SIZE);
  }

  /**
   * True when the blob left out checkpoint 0 and it was rebuilt at compressed offset 10. That
   * assumes a plain 10-byte gzip header; readers of span 0 skip the rest of a longer header.
   */
  public boolean firstCheckpointRebuilt() {
    return firstCheckpointRebuilt;
  }

  @Override
  public long spanSize() {
    return spanSize;
  }

  @Override
  public int spanCount() {
    return checkpoints.size();
  }

  public List<Checkpoint> checkpoints() {
    return checkpoints;
  }

  public Checkpoint checkpoint(int index) {
    return checkpoints.get(index);
  }

  /** A copy of checkpoint {@code index}'s window. */
  public byte[] window(int index) {
    return windowAt(index).toArray(JAVA_BYTE); // asSlice refuses an index out of range
  }

  /** The first checkpoint written: 1 for a rebuilt checkpoint 0, which stays left out. */
  private int firstWritten() {
    return firstCheckpointRebuilt ? 1 : 0;
  }

  @Override
  public int encodedSize() {
    return HEADER_SIZE + (checkpoints.size() - firstWritten()) * ENTRY_SIZE;
  }

  /**
   * Writes the blob. An older blob is written again in its own form, without checkpoint 0, as SOCI
   * does: the same bytes, and readers keep knowing that checkpoint 0 was assumed.
   */
  @Override
  public void writeTo(ByteBuffer out) {
    out.putInt(checkpoints.size()).putLong(spanSize);
    for (int i = firstWritten(); i < checkpoints.size(); i++) {
      Checkpoint c = checkpoints.get(i);
      out.putLong(c.compressedOffset()).putLong(c.uncompressedOffset()).put((byte) c.bits());
      out.put(windowAt(i).asByteBuffer());
    }
  }

  /**
   * Decodes a blob. Blobs written by older SOCI versions leave out checkpoint 0 (their length is
   * one entry short of the count); it is rebuilt as in 10, out 0, bits 0 with an empty window,
   * exactly as SOCI rebuilds it (its span 0 then starts at 10 and its digest covers bytes from 10
   * on). The real header may be longer (FNAME, FEXTRA, ...): the layer is not at hand here, so
   * {@link SpanExtractor} derives the header length from the layer's first bytes when it reads span
   * 0 (see {@link #firstCheckpointRebuilt()}).
   */
  public static GzipCheckpoints decode(byte[] blob) throws ZtocException {
    return decode(ByteBuffer.wrap(blob));
  }

  /** As {@link #decode(byte[])}, from the buffer's remaining bytes (the position is not moved). */
  public static GzipCheckpoints decode(ByteBuffer blobBuffer) throws ZtocException {
    ByteBuffer in = blobBuffer.slice().order(ByteOrder.LITTLE_ENDIAN);
    int length = in.remaining();
    if (length < HEADER_SIZE) {
      throw new ZtocException("zTOC checkpoints blob is " + length + " bytes, too short");
    }
    int count = in.getInt();
    long spanSize = in.getLong();
    if (count <= 0 || spanSize <= 0) {
      throw new ZtocException(
          "zTOC checkpoints blob has count " + count + " and span size " + spanSize);
    }
    long full = HEADER_SIZE + (long) count * ENTRY_SIZE;
    boolean withoutFirst = length == full - ENTRY_SIZE;
    if (length != full && !withoutFirst) {
      throw new ZtocException(
          "zTOC checkpoints blob is "
              + length
              + " bytes; "
              + count
              + " checkpoints need "
              + full
              + " (or "
              + (full - ENTRY_SIZE)
              + " without the first)");
    }
    List<Checkpoint> checkpoints = new ArrayList<>(count);
    MemorySegment windows = allocateWindows(count); // a rebuilt checkpoint 0 keeps zeros
    MemorySegment source = MemorySegment.ofBuffer(blobBuffer.slice()); // offset 0 = in's 0
    int first = 0;
    if (withoutFirst) {
      checkpoints.add(new Checkpoint(10, 0, 0));
      first = 1;
    }
    for (int i = first; i < count; i++) {
      long compressedOffset = in.getLong();
      long uncompressedOffset = in.getLong();
      int bits = in.get() & 0xff;
      checkpoints.add(new Checkpoint(compressedOffset, uncompressedOffset, bits));
      MemorySegment.copy(source, in.position(), windows, (long) i * WINDOW_SIZE, WINDOW_SIZE);
      in.position(in.position() + WINDOW_SIZE);
    }
    return new GzipCheckpoints(spanSize, checkpoints, windows, withoutFirst);
  }
}
