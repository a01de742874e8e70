package dev.lazypull.zlib;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One zlib inflate stream ({@code z_stream}) in native memory. Input and output are native segments
 * the caller owns; the caller moves them with {@link #setInput} and {@link #setOutput} and reads
 * progress back from {@link #availIn()}/{@link #availOut()}. Not thread-safe: one thread at a time,
 * like the z_stream it wraps.
 */
public final class NativeInflater implements AutoCloseable {

  /** Auto-detects a gzip or zlib header (15-bit window + 32). */
  public static final int GZIP_OR_ZLIB = 47;

  /** Raw deflate without header or trailer, 32 KiB window. */
  public static final int RAW = -15;

  /** The size of the deflate history window. */
  public static final int WINDOW_SIZE = 32768;

  // struct z_stream_s on LP64: pointers and uLong are 8 bytes, uInt and int 4.
  private static final long NEXT_IN = 0;
  private static final long AVAIL_IN = 8;
  private static final long NEXT_OUT = 24;
  private static final long AVAIL_OUT = 32;
  private static final long TOTAL_IN = 16;
  private static final long TOTAL_OUT = 40;
  private static final long MSG = 48;
  private static final long DATA_TYPE = 88;
  private static final long STREAM_SIZE = 112;

  private final Arena arena;
  private final MemorySegment stream;
  private boolean open;

  /** Opens a stream in {@code windowBits} mode ({@link #GZIP_OR_ZLIB} or {@link #RAW}). */
  public NativeInflater(int windowBits) {
    this.arena = Arena.ofConfined();
    this.stream = arena.allocate(MemoryLayout.sequenceLayout(STREAM_SIZE, ValueLayout.JAVA_BYTE));
    int code;
    try {
      code =
          (int) Zlib.INFLATE_INIT2.invokeExact(stream, windowBits, Zlib.VERSION, (int) STREAM_SIZE);
    } catch (Throwable t) {
      arena.close();
      throw new IllegalStateException("calling zlib inflateInit2 failed", t);
    }
    if (code != Zlib.Z_OK) {
      arena.close();
      throw new IllegalStateException("zlib inflateInit2(" + windowBits + ") returned " + code);
    }
    open = true;
  }

  /** Points the stream at {@code length} input bytes starting at {@code offset} of segment. */
  public void setInput(MemorySegment segment, long offset, int length) {
    checkBounds(segment, offset, length);
    stream.set(ValueLayout.JAVA_LONG, NEXT_IN, segment.address() + offset);
    stream.set(ValueLayout.JAVA_INT, AVAIL_IN, length);
  }

  /** Points the stream at {@code length} bytes of output space at {@code offset} of segment. */
  public void setOutput(MemorySegment segment, long offset, int length) {
    checkBounds(segment, offset, length);
    stream.set(ValueLayout.JAVA_LONG, NEXT_OUT, segment.address() + offset);
    stream.set(ValueLayout.JAVA_INT, AVAIL_OUT, length);
  }

  // zlib writes through raw addresses, so the bounds a slice would check are checked here.
  private static void checkBounds(MemorySegment segment, long offset, int length) {
    if (!segment.isNative() || offset < 0 || length < 0 || offset + length > segment.byteSize()) {
      throw new IndexOutOfBoundsException(
          "range ["
              + offset
              + ", "
              + (offset + length)
              + ") outside a native segment of "
              + segment.byteSize()
              + " bytes");
    }
  }

  /** Input bytes not yet consumed. */
  public int availIn() {
    return stream.get(ValueLayout.JAVA_INT, AVAIL_IN);
  }

  /** Input bytes consumed since the stream was opened or last reset. */
  public long totalIn() {
    return stream.get(ValueLayout.JAVA_LONG, TOTAL_IN);
  }

  /** Output bytes produced since the stream was opened or last reset. */
  public long totalOut() {
    return stream.get(ValueLayout.JAVA_LONG, TOTAL_OUT);
  }

  /** Output space not yet filled. */
  public int availOut() {
    return stream.get(ValueLayout.JAVA_INT, AVAIL_OUT);
  }

  /**
   * zlib's {@code data_type} after the last call: bits 0-2 = unused bits in the last consumed input
   * byte, 64 = in the last block, 128 = stopped at a block boundary (or right after the gzip
   * header).
   */
  public int dataType() {
    return stream.get(ValueLayout.JAVA_INT, DATA_TYPE);
  }

  /** True when inflate stopped between two deflate blocks ({@code data_type & 128}). */
  public boolean atBlockBoundary() {
    return (dataType() & 128) != 0;
  }

  /** True while decoding the last block of a member ({@code data_type & 64}). */
  public boolean inLastBlock() {
    return (dataType() & 64) != 0;
  }

  /** Unused bits in the last consumed input byte ({@code data_type & 7}). */
  public int unusedBits() {
    return dataType() & 7;
  }

  /**
   * Inflates with Z_NO_FLUSH. Returns true at the end of the (gzip member or raw) stream. Throws on
   * corrupt data; "no progress possible" (Z_BUF_ERROR) returns false.
   */
  public boolean inflate() throws ZlibException {
    return call(Zlib.Z_NO_FLUSH);
  }

  /** Like {@link #inflate()} but also stops at each deflate block boundary (Z_BLOCK). */
  public boolean inflateToBlockBoundary() throws ZlibException {
    return call(Zlib.Z_BLOCK);
  }

  private boolean call(int flush) throws ZlibException {
    int code;
    try {
      code = (int) Zlib.INFLATE.invokeExact(stream, flush);
    } catch (Throwable t) {
      throw new IllegalStateException("calling zlib inflate failed", t);
    }
    return switch (code) {
      case Zlib.Z_OK, Zlib.Z_BUF_ERROR -> false;
      case Zlib.Z_STREAM_END -> true;
      case Zlib.Z_NEED_DICT ->
          throw new ZlibException("deflate data needs a preset dictionary", code);
      default -> throw new ZlibException(message(code), code);
    };
  }

  private String message(int code) {
    MemorySegment msg = stream.get(ValueLayout.ADDRESS, MSG);
    if (msg.equals(MemorySegment.NULL)) {
      return "zlib error " + code;
    }
    return msg.reinterpret(256).getString(0);
  }

  /** Feeds the low {@code bits} bits of {@code value} ahead of the next input (inflatePrime). */
  public void prime(int bits, int value) {
    check("inflatePrime", invoke(Zlib.INFLATE_PRIME, bits, value));
  }

  /** Sets the history window a raw stream starts with (inflateSetDictionary). */
  public void setDictionary(MemorySegment dictionary) {
    int code;
    try {
      code =
          (int)
              Zlib.INFLATE_SET_DICTIONARY.invokeExact(
                  stream, dictionary, (int) dictionary.byteSize());
    } catch (Throwable t) {
      throw new IllegalStateException("calling zlib inflateSetDictionary failed", t);
    }
    check("inflateSetDictionary", code);
  }

  /** Starts a new stream in {@code windowBits} mode, keeping the allocated state. */
  public void reset(int windowBits) {
    int code;
    try {
      code = (int) Zlib.INFLATE_RESET2.invokeExact(stream, windowBits);
    } catch (Throwable t) {
      throw new IllegalStateException("calling zlib inflateReset2 failed", t);
    }
    check("inflateReset2", code);
  }

  private int invoke(java.lang.invoke.MethodHandle handle, int a, int b) {
    try {
      return (int) handle.invokeExact(stream, a, b);
    } catch (Throwable t) {
      throw new IllegalStateException("calling zlib failed", t);
    }
  }

  private static void check(String function, int code) {
    if (code != Zlib.Z_OK) {
      throw new IllegalStateException("zlib " + function + " returned " + code);
    }
  }

  @Override
  public void close() {
    if (open) {
      open = false;
      try {
        int unused = (int) Zlib.INFLATE_END.invokeExact(stream);
      } catch (Throwable t) {
        throw new IllegalStateException("calling zlib inflateEnd failed", t);
      } finally {
        arena.close();
      }
    }
  }
}
