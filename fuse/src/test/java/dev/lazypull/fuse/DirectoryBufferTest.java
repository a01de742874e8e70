package dev.lazypull.fuse;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DirectoryBufferTest {
  private static final Attributes FILE =
      new Attributes(42, 5, 8, 1, 2, 3, 4, 5, 6, 0100644, 1, 0, 0, 0, 4096);

  @Test
  void add_plainEntry_packsDirentAlignedToEightBytes() {
    try (var arena = Arena.ofConfined()) {
      var body = arena.allocate(4096);
      var buffer = new DirectoryBuffer(body);
      buffer.reset(false, 4096);

      assertThat(buffer.add(new byte[] {'a', 'b', 'c'}, 42, 0100644, 7)).isTrue();
      assertThat(buffer.add(new byte[] {(byte) 0xff}, 43, 0040755, 8)).isTrue();

      assertThat(buffer.used()).isEqualTo(32 + 32); // 24 + name, rounded up to 8
      assertThat(body.get(JAVA_LONG_UNALIGNED, 0)).isEqualTo(42);
      assertThat(body.get(JAVA_LONG_UNALIGNED, 8)).isEqualTo(7);
      assertThat(body.get(JAVA_INT_UNALIGNED, 16)).isEqualTo(3);
      assertThat(body.get(JAVA_INT_UNALIGNED, 20)).isEqualTo(8); // DT_REG
      assertThat(body.get(JAVA_BYTE, 24)).isEqualTo((byte) 'a');
      assertThat(body.get(JAVA_INT_UNALIGNED, 32 + 20)).isEqualTo(4); // DT_DIR
      assertThat(body.get(JAVA_BYTE, 32 + 24)).isEqualTo((byte) 0xff);
    }
  }

  @Test
  void addEntry_plus_writesEntryBeforeDirent() {
    try (var arena = Arena.ofConfined()) {
      var body = arena.allocate(4096);
      var buffer = new DirectoryBuffer(body);
      buffer.reset(true, 4096);

      buffer.addEntry(new byte[] {'f'}, Entry.of(FILE, Duration.ofSeconds(9)), 1);

      assertThat(buffer.used()).isEqualTo(Protocol.ENTRY_OUT_SIZE + 32);
      assertThat(body.get(JAVA_LONG_UNALIGNED, 0)).isEqualTo(42); // nodeid
      assertThat(body.get(JAVA_LONG_UNALIGNED, 16)).isEqualTo(9); // entry_valid
      assertThat(body.get(JAVA_LONG_UNALIGNED, 40)).isEqualTo(42); // attr.ino
      assertThat(body.get(JAVA_LONG_UNALIGNED, Protocol.ENTRY_OUT_SIZE)).isEqualTo(42);
    }
  }

  @Test
  void add_plusWithoutEntry_writesZeroNodeId() {
    try (var arena = Arena.ofConfined()) {
      var body = arena.allocate(4096);
      body.fill((byte) 0x55);
      var buffer = new DirectoryBuffer(body);
      buffer.reset(true, 4096);

      buffer.add(new byte[] {'.'}, 1, Attributes.S_IFDIR, 1);

      assertThat(body.get(JAVA_LONG_UNALIGNED, 0)).isZero();
      assertThat(body.get(JAVA_LONG_UNALIGNED, Protocol.ENTRY_OUT_SIZE)).isEqualTo(1);
    }
  }

  @Test
  void add_full_refusesAndLeavesBufferUnchanged() {
    try (var arena = Arena.ofConfined()) {
      var buffer = new DirectoryBuffer(arena.allocate(4096));
      buffer.reset(false, 40);

      assertThat(buffer.add(new byte[] {'a'}, 1, 0100644, 1)).isTrue();
      assertThat(buffer.add(new byte[] {'b'}, 2, 0100644, 2)).isFalse();
      assertThat(buffer.used()).isEqualTo(32);
    }
  }
}
