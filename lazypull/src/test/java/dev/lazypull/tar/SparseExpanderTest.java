package dev.lazypull.tar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.testing.TestLayers;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GNU tar's own archives are in HostileLayersIT; these are the hand-made and hostile maps. */
class SparseExpanderTest {
  @TempDir Path dir;

  private static final byte[] STORED = TestLayers.randomBytes(7, 15);

  private Path tarWithPax01(String map, String realSize) throws Exception {
    var builder = TestLayers.tar();
    builder
        .fileEntry("s", STORED)
        .pax("GNU.sparse.map", map)
        .pax("GNU.sparse.size", realSize)
        .pax("SCHILY.xattr.user.k", "v");
    builder.file("after", "next entry");
    Path tar = dir.resolve("in.tar");
    Files.write(tar, builder.build().bytes());
    return tar;
  }

  private static List<TarEntry> entries(Path tar) throws Exception {
    List<TarEntry> entries = new ArrayList<>();
    try (InputStream in = Files.newInputStream(tar)) {
      var reader = new TarReader(in);
      for (TarEntry e = reader.next(); e != null; e = reader.next()) {
        entries.add(e);
      }
    }
    return entries;
  }

  @Test
  void expand_pax01Map_givesARegularFileOfTheRealSizeWithHoles() throws Exception {
    Path out = dir.resolve("out.tar");

    assertThat(SparseExpander.expand(tarWithPax01("0,10,100,5", "200"), out)).isTrue();

    List<TarEntry> entries = entries(out);
    assertThat(entries).extracting(TarEntry::name).containsExactly("s", "after");
    TarEntry s = entries.getFirst();
    assertThat(s.sparse()).isFalse();
    assertThat(s.size()).isEqualTo(200);
    assertThat(s.paxText("SCHILY.xattr.user.k")).isEqualTo("v");
    byte[] bytes =
        Arrays.copyOfRange(
            Files.readAllBytes(out),
            (int) s.uncompressedOffset(),
            (int) s.uncompressedOffset() + 200);
    byte[] expected = new byte[200];
    System.arraycopy(STORED, 0, expected, 0, 10);
    System.arraycopy(STORED, 10, expected, 100, 5);
    assertThat(bytes).isEqualTo(expected);
  }

  @Test
  void expand_noSparseFile_writesNothing() throws Exception {
    Path tar = dir.resolve("plain.tar");
    Files.write(tar, TestLayers.tar().file("a", "b").build().bytes());
    Path out = dir.resolve("out.tar");

    assertThat(SparseExpander.expand(tar, out)).isFalse();
    assertThat(out).doesNotExist();
  }

  @Test
  void expand_regionPastTheRealSize_isRefusedNamingTheFile() throws Exception {
    assertThatThrownBy(
            () -> SparseExpander.expand(tarWithPax01("0,10,195,5", "198"), dir.resolve("out.tar")))
        .isInstanceOf(TarFormatException.class)
        .hasMessageContaining("sparse file 's'")
        .hasMessageContaining("past the file's end");
  }

  @Test
  void expand_mapForMoreBytesThanStored_isRefused() throws Exception {
    assertThatThrownBy(
            () -> SparseExpander.expand(tarWithPax01("0,100", "200"), dir.resolve("out.tar")))
        .isInstanceOf(TarFormatException.class)
        .hasMessageContaining("stores 15 bytes");
  }

  @Test
  void expand_pax00Records_areRefusedAsUnsupported() throws Exception {
    var builder = TestLayers.tar();
    builder.fileEntry("old", STORED).pax("GNU.sparse.offset", "0").pax("GNU.sparse.numbytes", "15");
    Path tar = dir.resolve("in.tar");
    Files.write(tar, builder.build().bytes());

    assertThatThrownBy(() -> SparseExpander.expand(tar, dir.resolve("out.tar")))
        .isInstanceOf(TarFormatException.class)
        .hasMessageContaining("sparse file 'old'")
        .hasMessageContaining("0.1 and 1.0");
  }
}
