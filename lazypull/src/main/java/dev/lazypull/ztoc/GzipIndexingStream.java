package dev.lazypull.ztoc;

import dev.lazypull.oci.Digest;
import dev.lazypull.zlib.NativeInflater;
import dev.lazypull.zlib.ZlibException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Decompresses a gzip layer (all members) and, in the same pass, records zran-style checkpoints and
 * the sha256 of each span's compressed bytes. Reading it gives the uncompressed tar; {@link #skip}
 * skips without copying.
 *
 * <p>Output goes to a native buffer whose first 32 KiB always hold the history before the write
 * position, so a checkpoint's window is one copy.
 */
final class GzipIndexingStream extends InputStream {

  private static final int WINDOW = NativeInflater.WINDOW_SIZE;
  private static final int INPUT_SIZE = 1 << 20;
  private static final int OUTPUT_SIZE = 1 << 20;
  private static final int OUTPUT_CAPACITY = WINDOW + OUTPUT_SIZE;

  private final InputStream source;
  private final long spanSize;
  private final Arena arena = Arena.ofConfined();
  private final NativeInflater inflater = new NativeInflater(NativeInflater.GZIP_OR_ZLIB);
  private final byte[] input = new byte[INPUT_SIZE];
  private final MemorySegment nativeInput = arena.allocate(INPUT_SIZE);
  private final MemorySegment output = arena.allocate(OUTPUT_CAPACITY);

  private int inputLength;
  private int inputPosition;
  private int outputPosition = WINDOW;
  private int readPosition = WINDOW;

  private long compressedOffset;
  private long uncompressedOffset;
  private boolean inMember;
  private boolean sourceEnded;
  private boolean finished;
  private int members;
  private byte lastConsumedByte;

  private final List<Checkpoint> checkpoints = new ArrayList<>();
  private final List<byte[]> windows = new ArrayList<>();
  private final List<Digest> spanDigests = new ArrayList<>();
  private final MessageDigest spanHasher = Digest.newSha256();
  private long lastCheckpointOut;

  GzipIndexingStream(InputStream source, long spanSize) {
    this.source = source;
    this.spanSize = spanSize;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    if (!ensureOutput()) {
      return -1;
    }
    int n = Math.min(length, outputPosition - readPosition);
    MemorySegment.copy(output, ValueLayout.JAVA_BYTE, readPosition, buffer, offset, n);
    readPosition += n;
    return n;
  }

  @Override
  public long skip(long count) throws IOException {
    if (count <= 0 || !ensureOutput()) {
      return 0;
    }
    int n = (int) Math.min(count, outputPosition - readPosition);
    readPosition += n;
    return n;
  }

  /** Reads and indexes the rest of the layer. */
  void drain() throws IOException {
    while (skip(Long.MAX_VALUE) > 0) {
      // keep inflating
    }
  }

  long compressedSize() {
    return compressedOffset;
  }

  long uncompressedSize() {
    return uncompressedOffset;
  }

  int members() {
    return members;
  }

  /** The checkpoints and span digests; call after {@link #drain()}. */
  GzipCheckpoints checkpoints() {
    return new GzipCheckpoints(spanSize, checkpoints, windows);
  }

  List<Digest> spanDigests() {
    return spanDigests;
  }

  /** True when unread output is available, inflating more if needed; false at the end. */
  private boolean ensureOutput() throws IOException {
    while (readPosition == outputPosition) {
      if (finished) {
        return false;
      }
      if (outputPosition == OUTPUT_CAPACITY) {
        keepHistoryOnly();
      }
      inflateStep();
    }
    return true;
  }

  private void keepHistoryOnly() {
    MemorySegment.copy(output, outputPosition - WINDOW, output, 0, WINDOW);
    outputPosition = WINDOW;
    readPosition = WINDOW;
  }

  private void inflateStep() throws IOException {
    if (inputPosition == inputLength && !refill()) {
      finish();
      return;
    }
    if (!inMember) {
      startMember();
      return;
    }
    inflater.setOutput(output, outputPosition, OUTPUT_CAPACITY - outputPosition);
    boolean memberEnded;
    try {
      memberEnded = inflater.inflateToBlockBoundary();
    } catch (ZlibException e) {
      throw new ZtocException(
          "corrupt gzip data near compressed offset "
              + compressedOffset
              + " (member "
              + members
              + "): "
              + e.getMessage(),
          e);
    }
    account();
    if (memberEnded) {
      inMember = false;
    } else if (isCheckpoint()) {
      addCheckpoint();
    }
  }

  /** Moves the offsets by what the last inflate call consumed and produced. */
  private void account() {
    int consumedTo = inputLength - inflater.availIn();
    hash(inputPosition, consumedTo);
    compressedOffset += consumedTo - inputPosition;
    inputPosition = consumedTo;
    int producedTo = OUTPUT_CAPACITY - inflater.availOut();
    uncompressedOffset += producedTo - outputPosition;
    outputPosition = producedTo;
  }

  // The zran rule: at a block boundary that does not end a member's last block, when this is
  // the first checkpoint or more than a span was produced since the last one.
  private boolean isCheckpoint() {
    return inflater.atBlockBoundary()
        && !inflater.inLastBlock()
        && (uncompressedOffset == 0 || uncompressedOffset - lastCheckpointOut > spanSize);
  }

  private void addCheckpoint() {
    int bits = inflater.unusedBits();
    if (!checkpoints.isEmpty()) {
      spanDigests.add(Digest.fromSha256(spanHasher.digest()));
    }
    if (bits != 0) {
      // The next span starts with the partly used byte before the boundary.
      byte shared = inputPosition > 0 ? input[inputPosition - 1] : lastConsumedByte;
      spanHasher.update(shared);
    }
    checkpoints.add(new Checkpoint(compressedOffset, uncompressedOffset, bits));
    byte[] window = new byte[WINDOW];
    MemorySegment.copy(output, ValueLayout.JAVA_BYTE, outputPosition - WINDOW, window, 0, WINDOW);
    windows.add(window);
    lastCheckpointOut = uncompressedOffset;
  }

  private void hash(int from, int to) {
    if (to > from && !checkpoints.isEmpty()) {
      spanHasher.update(input, from, to - from);
    }
  }

  private void startMember() throws IOException {
    int first = input[inputPosition] & 0xff;
    if (first == 0x1f) {
      if (members > 0) {
        inflater.reset(NativeInflater.GZIP_OR_ZLIB);
      }
      inflater.setInput(nativeInput, inputPosition, inputLength - inputPosition);
      inMember = true;
      members++;
    } else if (members > 0 && first == 0) {
      // Zero padding after the last member (some tools pad to a block size): part of the
      // last span, not of any member.
      hash(inputPosition, inputPosition + 1);
      inputPosition++;
      compressedOffset++;
    } else {
      throw new ZtocException(
          "unexpected byte 0x"
              + Integer.toHexString(first)
              + " at compressed offset "
              + compressedOffset
              + (members == 0
                  ? ": not a gzip stream"
                  : " after gzip member " + members + " (expected another member or the end)"));
    }
  }

  private boolean refill() throws IOException {
    if (sourceEnded) {
      return false;
    }
    if (inputLength > 0) {
      lastConsumedByte = input[inputLength - 1];
    }
    int n = source.readNBytes(input, 0, INPUT_SIZE);
    if (n <= 0) {
      sourceEnded = true;
      return false;
    }
    MemorySegment.copy(input, 0, nativeInput, ValueLayout.JAVA_BYTE, 0, n);
    inputLength = n;
    inputPosition = 0;
    if (inMember) {
      inflater.setInput(nativeInput, 0, n);
    }
    return true;
  }

  private void finish() throws ZtocException {
    if (inMember) {
      throw new ZtocException(
          "gzip layer is truncated: it ends at compressed offset "
              + compressedOffset
              + " inside member "
              + members);
    }
    if (members == 0) {
      throw new ZtocException("layer is empty");
    }
    spanDigests.add(Digest.fromSha256(spanHasher.digest()));
    finished = true;
  }

  @Override
  public void close() {
    inflater.close();
    arena.close();
  }
}
