package dev.lazypull.zlib;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.testing.TestLayers;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class NativeInflaterTest {

  private static MemorySegment copy(Arena arena, byte[] bytes) {
    MemorySegment segment = arena.allocate(Math.max(1, bytes.length));
    MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, 0, bytes.length);
    return segment;
  }

  /** Inflates everything with the given inflater, stopping at block boundaries when asked. */
  private static byte[] inflateAll(
      NativeInflater inflater, MemorySegment in, int length, boolean blocks, Arena arena)
      throws ZlibException {
    MemorySegment out = arena.allocate(1 << 16);
    var result = new ByteArrayOutputStream();
    inflater.setInput(in, 0, length);
    boolean end = false;
    while (!end) {
      inflater.setOutput(out, 0, 1 << 16);
      end = blocks ? inflater.inflateToBlockBoundary() : inflater.inflate();
      int produced = (1 << 16) - inflater.availOut();
      result.write(out.asSlice(0, produced).toArray(ValueLayout.JAVA_BYTE), 0, produced);
      if (!end && produced == 0 && inflater.availIn() == 0) {
        throw new AssertionError("no progress");
      }
    }
    return result.toByteArray();
  }

  @Test
  void inflate_gzipMember_givesTheOriginalAndCountsTotals() throws Exception {
    byte[] data = TestLayers.textBytes(1, 300_000);
    byte[] gz = TestLayers.gzip(data);
    try (var arena = Arena.ofConfined();
        var inflater = new NativeInflater(NativeInflater.GZIP_OR_ZLIB)) {
      byte[] out = inflateAll(inflater, copy(arena, gz), gz.length, false, arena);

      assertThat(out).isEqualTo(data);
      assertThat(inflater.totalIn()).isEqualTo(gz.length);
      assertThat(inflater.totalOut()).isEqualTo(data.length);
    }
  }

  @Test
  void inflateToBlockBoundary_stopsRightAfterTheGzipHeader() throws Exception {
    byte[] gz = TestLayers.gzip(TestLayers.textBytes(2, 100_000));
    try (var arena = Arena.ofConfined();
        var inflater = new NativeInflater(NativeInflater.GZIP_OR_ZLIB)) {
      MemorySegment in = copy(arena, gz);
      MemorySegment out = arena.allocate(1 << 16);
      inflater.setInput(in, 0, gz.length);
      inflater.setOutput(out, 0, 1 << 16);

      boolean end = inflater.inflateToBlockBoundary();

      assertThat(end).isFalse();
      assertThat(inflater.totalIn()).isEqualTo(10);
      assertThat(inflater.totalOut()).isZero();
      assertThat(inflater.atBlockBoundary()).isTrue();
      assertThat(inflater.inLastBlock()).isFalse();
      assertThat(inflateAll(inflater, in.asSlice(10), gz.length - 10, true, arena))
          .hasSize(100_000);
    }
  }

  @Test
  void prime_andDictionary_restartInflateMidStream() throws Exception {
    // Find a block boundary with pending bits, then restart a raw stream there.
    byte[] data = TestLayers.textBytes(3, 400_000);
    byte[] gz = TestLayers.gzip(data);
    try (var arena = Arena.ofConfined();
        var inflater = new NativeInflater(NativeInflater.GZIP_OR_ZLIB)) {
      MemorySegment in = copy(arena, gz);
      MemorySegment out = arena.allocate(data.length);
      inflater.setInput(in, 0, gz.length);
      inflater.setOutput(out, 0, data.length);
      long boundaryIn = -1;
      long boundaryOut = -1;
      int bits = -1;
      while (!inflater.inflateToBlockBoundary()) {
        if (inflater.atBlockBoundary()
            && inflater.totalOut() > 100_000
            && !inflater.inLastBlock()
            && inflater.unusedBits() != 0) {
          boundaryIn = inflater.totalIn();
          boundaryOut = inflater.totalOut();
          bits = inflater.unusedBits();
          break;
        }
      }
      assertThat(bits).as("a boundary with pending bits").isPositive();

      try (var restarted = new NativeInflater(NativeInflater.RAW)) {
        restarted.prime(bits, (gz[(int) boundaryIn - 1] & 0xff) >> (8 - bits));
        restarted.setDictionary(
            copy(
                arena,
                java.util.Arrays.copyOfRange(data, (int) boundaryOut - 32768, (int) boundaryOut)));
        MemorySegment rest =
            copy(arena, java.util.Arrays.copyOfRange(gz, (int) boundaryIn, gz.length));
        MemorySegment tail = arena.allocate(1000);
        restarted.setInput(rest, 0, (int) rest.byteSize());
        restarted.setOutput(tail, 0, 1000);
        restarted.inflate();

        assertThat(tail.toArray(ValueLayout.JAVA_BYTE))
            .isEqualTo(
                java.util.Arrays.copyOfRange(data, (int) boundaryOut, (int) boundaryOut + 1000));
      }
    }
  }

  @Test
  void inflate_corruptData_throwsWithZlibsMessage() {
    byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 1, 2, 3};
    try (var arena = Arena.ofConfined();
        var inflater = new NativeInflater(NativeInflater.RAW)) {
      inflater.setInput(copy(arena, garbage), 0, garbage.length);
      inflater.setOutput(arena.allocate(100), 0, 100);

      assertThatThrownBy(inflater::inflate)
          .isInstanceOf(ZlibException.class)
          .hasMessageContaining("invalid");
    }
  }

  @Test
  void setInput_outsideTheSegment_isRefused() {
    try (var arena = Arena.ofConfined();
        var inflater = new NativeInflater(NativeInflater.RAW)) {
      MemorySegment small = arena.allocate(10);

      assertThatThrownBy(() -> inflater.setInput(small, 5, 10))
          .isInstanceOf(IndexOutOfBoundsException.class);
    }
  }
}
