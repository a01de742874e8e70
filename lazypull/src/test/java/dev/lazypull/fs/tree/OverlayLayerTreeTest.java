package dev.lazypull.fs.tree;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link MergedTreeBuilder#forOverlayLayer()}: one layer with whiteouts in overlayfs's form. */
class OverlayLayerTreeTest {
  private static LayerEntry entry(String name, EntryType type) {
    return new LayerEntry(
        name.getBytes(UTF_8),
        type,
        0644,
        1,
        2,
        1_700_000_000L,
        5,
        0,
        new byte[0],
        0,
        0,
        Map.of(),
        0);
  }

  private static Node at(MergedTree tree, String path) {
    Node node = tree.resolve(path.getBytes(UTF_8), false);
    assertThat(node).as(path).isNotNull();
    return node;
  }

  @Test
  void addLayer_whiteoutBecomesZeroZeroCharDevice() throws Exception {
    var builder = MergedTreeBuilder.forOverlayLayer();
    builder.addLayer(
        0,
        List.of(
            entry("etc/", EntryType.DIRECTORY),
            entry("etc/.wh.old", EntryType.REGULAR),
            entry("etc/new", EntryType.REGULAR)));
    MergedTree tree = builder.build();

    Node whiteout = at(tree, "etc/old");
    assertThat(whiteout).isInstanceOf(SpecialNode.class);
    assertThat(whiteout.mode() & 0170000).isEqualTo(0020000);
    assertThat(whiteout.rdev()).isZero();
    assertThat(tree.resolve("etc/.wh.old".getBytes(UTF_8), false)).isNull();
    assertThat(at(tree, "etc/new")).isInstanceOf(FileNode.class);
  }

  @Test
  void addLayer_opaqueMarkerSetsTheOverlayXattrEvenBeforeItsDirectoryEntry() throws Exception {
    var builder = MergedTreeBuilder.forOverlayLayer();
    builder.addLayer(
        0,
        List.of(
            entry("d/.wh..wh..opq", EntryType.REGULAR),
            entry("d/", EntryType.DIRECTORY),
            entry("d/kept", EntryType.REGULAR),
            entry("e/sub/.wh..wh..opq", EntryType.REGULAR)));
    MergedTree tree = builder.build();

    assertThat(at(tree, "d").xattrs()).containsKey(MergedTreeBuilder.OVERLAY_OPAQUE_XATTR);
    assertThat(at(tree, "d").xattrs().get(MergedTreeBuilder.OVERLAY_OPAQUE_XATTR))
        .containsExactly('y');
    assertThat(((DirectoryNode) at(tree, "d")).names())
        .extracting(Name::toString)
        .containsExactly("kept");
    assertThat(at(tree, "e/sub").xattrs()).containsKey(MergedTreeBuilder.OVERLAY_OPAQUE_XATTR);
    assertThat(at(tree, "e").xattrs()).isEmpty();
  }

  @Test
  void newBuilder_stillAppliesWhiteouts() throws Exception {
    var builder = new MergedTreeBuilder();
    builder.addLayer(0, List.of(entry("a", EntryType.REGULAR)));
    builder.addLayer(1, List.of(entry(".wh.a", EntryType.REGULAR)));
    assertThat(builder.build().resolve("a".getBytes(UTF_8), false)).isNull();
  }
}
