package dev.lazypull.fuse;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class InitNegotiationTest {
  private static final long ALL = 0xffff_ffff_ffff_ffffL & ~(1L << 31);

  @Test
  void answer_kernelOffersEverything_agreesOnWantedFlagsAndLimits() throws IOException {
    try (var arena = Arena.ofConfined()) {
      var body = arena.allocate(64);

      long agreed = InitNegotiation.answer(initIn(arena, 45, ALL), body, 1 << 20, true, n -> true);

      assertThat(agreed & Protocol.PASSTHROUGH).isNotZero();
      assertThat(agreed & Protocol.ASYNC_READ).isNotZero();
      assertThat(agreed & Protocol.DO_READDIRPLUS).isNotZero();
      assertThat(agreed & Protocol.INIT_EXT).isNotZero();
      assertThat(agreed & (1L << 16)).as("no writeback cache").isZero();
      assertThat(body.get(JAVA_INT_UNALIGNED, 4)).isEqualTo(Protocol.SERVER_MINOR);
      assertThat(body.get(JAVA_INT_UNALIGNED, 20)).isEqualTo(1 << 20); // max_write
      assertThat(body.get(JAVA_SHORT_UNALIGNED, 28)).isEqualTo((short) 256); // max_pages
      assertThat(body.get(JAVA_INT_UNALIGNED, 32)).isEqualTo(1 << 5); // flags2: passthrough
      assertThat(body.get(JAVA_INT_UNALIGNED, 36)).isEqualTo(1); // max_stack_depth
    }
  }

  @Test
  void answer_kernelWithoutInitExt_neverAsksForPassthrough() throws IOException {
    try (var arena = Arena.ofConfined()) {
      var body = arena.allocate(64);
      long offered = ALL & ~Protocol.INIT_EXT;

      long agreed =
          InitNegotiation.answer(initIn(arena, 38, offered), body, 1 << 20, true, n -> true);

      assertThat(agreed & Protocol.PASSTHROUGH).isZero();
      assertThat(body.get(JAVA_INT_UNALIGNED, 32)).isZero();
      assertThat(body.get(JAVA_INT_UNALIGNED, 36)).isZero();
      assertThat(body.get(JAVA_INT_UNALIGNED, 4)).isEqualTo(38);
    }
  }

  @Test
  void answer_passthroughNotWanted_leavesItOff() throws IOException {
    try (var arena = Arena.ofConfined()) {
      long agreed =
          InitNegotiation.answer(
              initIn(arena, 45, ALL), arena.allocate(64), 1 << 20, false, n -> true);

      assertThat(agreed & Protocol.PASSTHROUGH).isZero();
    }
  }

  @Test
  void answer_otherMajorVersion_fails() {
    try (var arena = Arena.ofConfined()) {
      var in = initIn(arena, 45, ALL);
      in.set(JAVA_INT_UNALIGNED, 0, 8);

      assertThatThrownBy(
              () -> InitNegotiation.answer(in, arena.allocate(64), 1 << 20, true, n -> true))
          .hasMessageContaining("only 7.x");
    }
  }

  private static MemorySegment initIn(Arena arena, int minor, long flags) {
    var in = arena.allocate(64);
    in.set(JAVA_INT_UNALIGNED, 0, 7);
    in.set(JAVA_INT_UNALIGNED, 4, minor);
    in.set(JAVA_INT_UNALIGNED, 8, 128 << 10);
    in.set(JAVA_INT_UNALIGNED, 12, (int) flags);
    in.set(JAVA_INT_UNALIGNED, 16, (int) (flags >>> 32));
    return in;
  }
}
