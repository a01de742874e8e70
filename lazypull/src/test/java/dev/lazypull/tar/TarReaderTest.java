package dev.lazypull.tar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.testing.TestLayers;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TarReaderTest {

  private static List<TarEntry> readAll(byte[] tar) throws IOException {
    var reader = new TarReader(new ByteArrayInputStream(tar));
    List<TarEntry> entries = new ArrayList<>();
    for (TarEntry e = reader.next(); e != null; e = reader.next()) {
      entries.add(e);
    }
    return entries;
  }

  @Test
  void next_everyEntryType_isReportedWithItsFields() throws IOException {
    var builder = TestLayers.tar().dir("etc/").file("etc/hosts", "127.0.0.1 localhost\n");
    builder.add("etc/mode", '0').owner(1000, 1001, "alice", "staff").mode(0100755);
    builder
        .hardlink("etc/hosts2", "etc/hosts")
        .symlink("bin", "usr/bin")
        .charDevice("dev/null", 1, 3)
        .blockDevice("dev/sda", 8, 0)
        .fifo("run/pipe");
    builder.add("old-contiguous", '7');
    var tar = builder.build();

    List<TarEntry> entries = readAll(tar.bytes());

    assertThat(entries)
        .extracting(TarEntry::type)
        .containsExactly(
            TarEntryType.DIRECTORY,
            TarEntryType.REGULAR,
            TarEntryType.REGULAR,
            TarEntryType.HARDLINK,
            TarEntryType.SYMLINK,
            TarEntryType.CHAR_DEVICE,
            TarEntryType.BLOCK_DEVICE,
            TarEntryType.FIFO,
            TarEntryType.REGULAR);
    TarEntry hosts = entries.get(1);
    assertThat(hosts.name()).isEqualTo("etc/hosts");
    assertThat(hosts.size()).isEqualTo(20);
    assertThat(hosts.uncompressedOffset()).isEqualTo(tar.dataOffset("etc/hosts"));
    assertThat(hosts.modTime()).isEqualTo(Instant.ofEpochSecond(1700000000));
    TarEntry owned = entries.get(2);
    assertThat(owned.uid()).isEqualTo(1000);
    assertThat(owned.gid()).isEqualTo(1001);
    assertThat(owned.uname()).isEqualTo("alice");
    assertThat(owned.gname()).isEqualTo("staff");
    assertThat(owned.mode()).isEqualTo(0100755);
    assertThat(entries.get(3).linkName()).isEqualTo("etc/hosts");
    assertThat(entries.get(4).linkName()).isEqualTo("usr/bin");
    assertThat(entries.get(5).devMajor()).isEqualTo(1);
    assertThat(entries.get(5).devMinor()).isEqualTo(3);
    assertThat(entries.get(6).devMajor()).isEqualTo(8);
  }

  @Test
  void next_dataOffsets_matchTheWriterForManySizes() throws IOException {
    var builder = TestLayers.tar();
    for (int size : new int[] {0, 1, 511, 512, 513, 1024, 70000}) {
      builder.file("f" + size, TestLayers.textBytes(size, size));
    }
    var tar = builder.build();

    for (TarEntry e : readAll(tar.bytes())) {
      assertThat(e.uncompressedOffset()).as(e.name()).isEqualTo(tar.dataOffset(e.name()));
      assertThat(e.tarHeaderOffset()).isEqualTo(tar.headerOffsets().get(e.name()));
    }
  }

  @Test
  void next_paxRecords_applyAndKeepNewlinesInValues() throws IOException {
    var builder = TestLayers.tar();
    builder
        .fileEntry("short", "data".getBytes(StandardCharsets.UTF_8))
        .pax("path", "a/name/from/pax")
        .pax("mtime", "1700000000.5")
        .pax("uid", "70000")
        .pax("uname", "pax user")
        .xattr("user.note", "line one\nline two\n")
        .xattr("security.capability", new byte[] {1, (byte) 0xff, 0, '\n'});
    var tar = builder.build();

    TarEntry e = readAll(tar.bytes()).getFirst();

    assertThat(e.name()).isEqualTo("a/name/from/pax");
    assertThat(e.modTime()).isEqualTo(Instant.ofEpochSecond(1700000000, 500_000_000));
    assertThat(e.uid()).isEqualTo(70000);
    assertThat(e.uname()).isEqualTo("pax user");
    assertThat(e.paxText("SCHILY.xattr.user.note")).isEqualTo("line one\nline two\n");
    assertThat(e.paxRecords().get("SCHILY.xattr.security.capability"))
        .isEqualTo(new byte[] {1, (byte) 0xff, 0, '\n'});
    assertThat(e.paxRecords()).containsKey("path");
    assertThat(e.uncompressedOffset()).isEqualTo(tar.dataOffset("short"));
  }

  @Test
  void next_paxGlobalHeader_isSkippedAndNotApplied() throws IOException {
    var tar =
        TestLayers.tar()
            .paxGlobal(Map.of("comment", "global\nvalue", "uname", "nobody"))
            .file("after-global", "x")
            .build();

    List<TarEntry> entries = readAll(tar.bytes());

    assertThat(entries).hasSize(1);
    assertThat(entries.getFirst().name()).isEqualTo("after-global");
    assertThat(entries.getFirst().uname()).isEmpty();
    assertThat(entries.getFirst().paxRecords()).isEmpty();
    assertThat(entries.getFirst().uncompressedOffset()).isEqualTo(tar.dataOffset("after-global"));
  }

  @Test
  void next_longNames_areReadInAllThreeStyles() throws IOException {
    String longName = "deep/" + "directory/".repeat(15) + "file-with-a-long-name.txt";
    String longTarget = "target/" + "x".repeat(150);
    for (var style : TestLayers.LongNames.values()) {
      var builder = TestLayers.tar().longNames(style).file(longName, "content");
      if (style != TestLayers.LongNames.USTAR_PREFIX) {
        builder.symlink("link", longTarget);
      }
      var tar = builder.build();

      List<TarEntry> entries = readAll(tar.bytes());

      assertThat(entries.getFirst().name()).as(style.name()).isEqualTo(longName);
      assertThat(entries.getFirst().uncompressedOffset()).isEqualTo(tar.dataOffset(longName));
      if (style != TestLayers.LongNames.USTAR_PREFIX) {
        assertThat(entries.get(1).linkName()).as(style.name()).isEqualTo(longTarget);
      }
    }
  }

  @Test
  void next_nonUtf8Name_keepsTheRawBytes() throws IOException {
    byte[] latin1 = "caf\u00e9.txt".getBytes(StandardCharsets.ISO_8859_1);
    var builder = TestLayers.tar();
    builder.add(latin1, '0');

    TarEntry e = readAll(builder.build().bytes()).getFirst();

    assertThat(e.rawName()).isEqualTo(latin1);
    assertThat(e.name()).isEqualTo("caf\u00e9.txt");
  }

  @Test
  void next_sparseEntries_areFlagged() throws IOException {
    var builder = TestLayers.tar().gnuSparse("old-sparse", new byte[100]);
    builder
        .fileEntry("pax-sparse", new byte[10])
        .pax("GNU.sparse.major", "1")
        .pax("GNU.sparse.minor", "0")
        .pax("GNU.sparse.name", "real-name");
    builder.file("plain", "x");

    List<TarEntry> entries = readAll(builder.build().bytes());

    assertThat(entries).extracting(TarEntry::sparse).containsExactly(true, true, false);
  }

  @Test
  void next_gnuSparseWithExtensionBlocks_keepsLaterOffsetsExact() throws IOException {
    var tar = TestLayers.tar().gnuSparse("sparse", new byte[1000]).file("after", "x").build();
    byte[] bytes = tar.bytes().clone();
    int header = tar.headerOffsets().get("sparse").intValue();
    // Mark the header as extended and splice in one extension block (isextended = 0).
    bytes[header + 482] = 1;
    fixChecksum(bytes, header);
    byte[] spliced = new byte[bytes.length + 512];
    System.arraycopy(bytes, 0, spliced, 0, header + 512);
    System.arraycopy(bytes, header + 512, spliced, header + 1024, bytes.length - header - 512);

    List<TarEntry> entries = readAll(spliced);

    assertThat(entries.get(0).sparse()).isTrue();
    assertThat(entries.get(0).uncompressedOffset()).isEqualTo(header + 1024);
    assertThat(entries.get(1).uncompressedOffset()).isEqualTo(tar.dataOffset("after") + 512);
  }

  private static void fixChecksum(byte[] tar, int header) {
    Arrays.fill(tar, header + 148, header + 156, (byte) ' ');
    long sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += tar[header + i] & 0xff;
    }
    byte[] text = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(text, 0, tar, header + 148, 8);
  }

  @Test
  void next_base256Numbers_areDecoded() throws IOException {
    var builder = TestLayers.tar();
    builder.fileEntry("big-ids", new byte[700]).owner(3_000_000_000L, 5, "", "").base256();

    TarEntry e = readAll(builder.build().bytes()).getFirst();

    assertThat(e.uid()).isEqualTo(3_000_000_000L);
    assertThat(e.size()).isEqualTo(700);
  }

  @Test
  void next_negativeOrHugeSize_isRejectedNamingTheEntry() {
    for (long size : new long[] {-1, 1L << 50}) {
      var builder = TestLayers.tar();
      builder.fileEntry("bad-size", new byte[0]).headerSize(size).base256();

      assertThatThrownBy(() -> readAll(builder.build().bytes()))
          .isInstanceOf(TarFormatException.class)
          .hasMessageContaining("'bad-size'")
          .hasMessageContaining("size " + size);
    }
  }

  @Test
  void next_truncatedData_isAnErrorNotAShortEntry() {
    byte[] tar = TestLayers.tar().file("big", new byte[5000]).file("next", "x").build().bytes();
    byte[] truncated = Arrays.copyOf(tar, 3000);

    assertThatThrownBy(() -> readAll(truncated)).hasMessageContaining("truncated");
  }

  @Test
  void next_badChecksum_isRejected() {
    byte[] tar = TestLayers.tar().file("f", "x").build().bytes();
    tar[10] ^= 1;

    assertThatThrownBy(() -> readAll(tar))
        .isInstanceOf(TarFormatException.class)
        .hasMessageContaining("bad checksum");
  }

  @Test
  void next_unknownType_isRejectedNamingIt() {
    var builder = TestLayers.tar();
    builder.add("volume", 'V');

    assertThatThrownBy(() -> readAll(builder.build().bytes()))
        .isInstanceOf(TarFormatException.class)
        .hasMessageContaining("'volume'")
        .hasMessageContaining("unsupported type 'V'");
  }

  @Test
  void next_withoutEndMarker_endsAtEndOfStream() throws IOException {
    byte[] tar = TestLayers.tar().file("a", "1").withoutEndMarker().build().bytes();

    assertThat(readAll(tar)).hasSize(1);
  }

  @Test
  void typeNulNameWithTrailingSlash_isADirectoryLikeGo() throws IOException {
    var builder = TestLayers.tar();
    builder.add("v7dir/", '\0');
    builder.add("v7file", '\0');
    builder.add("trail/", '0');

    assertThat(readAll(builder.build().bytes()))
        .extracting(TarEntry::type)
        .containsExactly(TarEntryType.DIRECTORY, TarEntryType.REGULAR, TarEntryType.REGULAR);
  }

  @Test
  void symlinkHeaderWithASize_nextHeaderFollowsItsHeaderLikeGo() throws IOException {
    // Go's archive/tar reads no data for links, directories and devices, whatever the size field
    // says; so what follows their header is the next header, for containerd and for lazypull.
    var builder = TestLayers.tar();
    builder.add("link", '2').linkTo("target".getBytes(StandardCharsets.UTF_8)).headerSize(512);
    builder.file("hidden", "seen by containerd");
    builder.file("after", "x");

    List<TarEntry> entries = readAll(builder.build().bytes());

    assertThat(entries).extracting(TarEntry::name).containsExactly("link", "hidden", "after");
    assertThat(entries.getFirst().size()).isZero();
  }

  @Test
  void paxSizeRecord_governsWhereTheNextHeaderStarts() throws IOException {
    var builder = TestLayers.tar();
    builder.fileEntry("big", new byte[1500]).headerSize(0).pax("size", "1500");
    builder.file("after", "x");
    var tar = builder.build();

    List<TarEntry> entries = readAll(tar.bytes());

    assertThat(entries).extracting(TarEntry::name).containsExactly("big", "after");
    assertThat(entries.get(0).size()).isEqualTo(1500);
    assertThat(entries.get(1).uncompressedOffset()).isEqualTo(tar.dataOffset("after"));
  }
}
