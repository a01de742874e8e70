package dev.lazypull.fs.tree;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MergedTreeBuilderTest {
  private final MergedTreeBuilder builder = new MergedTreeBuilder();

  private static LayerEntry entry(String name, EntryType type, String link, long size) {
    return entry(name.getBytes(UTF_8), type, link, size);
  }

  private static LayerEntry entry(byte[] name, EntryType type, String link, long size) {
    return new LayerEntry(
        name,
        type,
        0644,
        1,
        2,
        1_700_000_000L,
        5,
        size,
        link.getBytes(UTF_8),
        0,
        0,
        Map.of(),
        1024);
  }

  private static LayerEntry file(String name) {
    return entry(name, EntryType.REGULAR, "", 10);
  }

  private static LayerEntry dir(String name) {
    return entry(name, EntryType.DIRECTORY, "", 0);
  }

  private static LayerEntry symlink(String name, String target) {
    return entry(name, EntryType.SYMLINK, target, 0);
  }

  private static LayerEntry hardlink(String name, String target) {
    return entry(name, EntryType.HARDLINK, target, 0);
  }

  private MergedTree build(List<List<LayerEntry>> layers) throws LayerEntryException {
    for (int i = 0; i < layers.size(); i++) {
      builder.addLayer(i, layers.get(i));
    }
    return builder.build();
  }

  private static Node at(MergedTree tree, String path) {
    Node node = tree.resolve(path.getBytes(UTF_8), false);
    assertThat(node).as(path).isNotNull();
    return node;
  }

  private static boolean exists(MergedTree tree, String path) {
    return tree.resolve(path.getBytes(UTF_8), false) != null;
  }

  @Test
  void build_rootIsInodeOneAndNamesAreCleaned() throws Exception {
    MergedTree tree =
        build(List.of(List.of(dir("./"), dir("./etc/"), file("./etc/passwd"), file("/abs"))));
    assertThat(tree.root().inode()).isEqualTo(1);
    assertThat(tree.node(1)).isSameAs(tree.root());
    assertThat(at(tree, "etc/passwd")).isInstanceOf(FileNode.class);
    assertThat(at(tree, "abs")).isInstanceOf(FileNode.class);
    assertThat(tree.root().names()).extracting(Name::toString).containsExactly("abs", "etc");
  }

  @Test
  void addLayer_dotDotNeverClimbsAboveRoot() throws Exception {
    MergedTree tree = build(List.of(List.of(file("../../etc/shadow"), file("a/../../b"))));
    assertThat(at(tree, "etc/shadow")).isInstanceOf(FileNode.class);
    assertThat(at(tree, "b")).isInstanceOf(FileNode.class);
  }

  @Test
  void addLayer_entryBelowSymlinkToOutsideStaysInsideRoot() throws Exception {
    MergedTree tree =
        build(List.of(List.of(symlink("link", "/"), symlink("up", "../../.."), file("link/x"))));
    assertThat(at(tree, "x")).isInstanceOf(FileNode.class);
    MergedTree tree2 =
        new MergedTreeBuilderTest()
            .build(List.of(List.of(symlink("up", "../../../tmp"), file("up/y"))));
    assertThat(at(tree2, "tmp/y")).isInstanceOf(FileNode.class);
  }

  @Test
  void addLayer_missingParentsBecomeImplicitDirectories() throws Exception {
    MergedTree tree = build(List.of(List.of(file("a/b/c"))));
    Node a = at(tree, "a");
    assertThat(a).isInstanceOf(DirectoryNode.class);
    assertThat(a.mode()).isEqualTo(0040755);
  }

  @Test
  void addLayer_whiteoutRemovesLowerButNotSameLayer() throws Exception {
    MergedTree tree =
        build(
            List.of(
                List.of(file("a"), file("b"), dir("d/"), file("d/x")),
                List.of(file("a"), file(".wh.a"), file(".wh.b"), file("d/.wh.x"))));
    assertThat(at(tree, "a")).isInstanceOf(FileNode.class);
    assertThat(((FileNode) at(tree, "a")).layerIndex()).isEqualTo(1);
    assertThat(exists(tree, "b")).isFalse();
    assertThat(exists(tree, "d/x")).isFalse();
    assertThat(exists(tree, ".wh.a")).isFalse();
  }

  @Test
  void addLayer_opaqueDirectoryHidesLowerContent() throws Exception {
    MergedTree tree =
        build(
            List.of(
                List.of(dir("d/"), file("d/old"), dir("d/sub/"), file("d/sub/deep")),
                List.of(dir("d/"), file("d/new"), file("d/.wh..wh..opq"))));
    assertThat(((DirectoryNode) at(tree, "d")).names())
        .extracting(Name::toString)
        .containsExactly("new");
  }

  @Test
  void addLayer_hardlinksShareInodeAndCountLinks() throws Exception {
    MergedTree tree =
        build(List.of(List.of(file("f"), hardlink("g", "f"), hardlink("./h", "./f"))));
    Node f = at(tree, "f");
    assertThat(at(tree, "g")).isSameAs(f);
    assertThat(at(tree, "h")).isSameAs(f);
    assertThat(f.linkCount()).isEqualTo(3);
  }

  @Test
  void addLayer_overwritingOneLinkLowersTheCount() throws Exception {
    MergedTree tree = build(List.of(List.of(file("f"), hardlink("g", "f")), List.of(file("g"))));
    assertThat(at(tree, "f").linkCount()).isEqualTo(1);
    assertThat(at(tree, "g")).isNotSameAs(at(tree, "f"));
  }

  @Test
  void addLayer_hardlinkToLowerLayerFileSharesIt() throws Exception {
    MergedTree tree = build(List.of(List.of(file("lower")), List.of(hardlink("upper", "lower"))));
    assertThat(at(tree, "upper")).isSameAs(at(tree, "lower"));
    assertThat(at(tree, "lower").linkCount()).isEqualTo(2);
  }

  @Test
  void addLayer_hardlinkToSymlinkLinksTheSymlink() throws Exception {
    MergedTree tree = build(List.of(List.of(symlink("s", "target"), hardlink("h", "s"))));
    assertThat(at(tree, "h")).isSameAs(at(tree, "s")).isInstanceOf(SymlinkNode.class);
  }

  @Test
  void addLayer_hardlinkToMissingTargetIsRefused() {
    assertThatThrownBy(() -> build(List.of(List.of(hardlink("h", "nowhere")))))
        .isInstanceOf(LayerEntryException.class)
        .hasMessageContaining("'h'")
        .hasMessageContaining("does not exist");
  }

  @Test
  void addLayer_longComponentIsRefused() {
    String longName = "x".repeat(256);
    assertThatThrownBy(() -> build(List.of(List.of(file("d/" + longName)))))
        .isInstanceOf(LayerEntryException.class)
        .hasMessageContaining("256 bytes");
  }

  @Test
  void addLayer_laterDuplicateWins() throws Exception {
    LayerEntry first = entry("f", EntryType.REGULAR, "", 10);
    LayerEntry second = entry("f", EntryType.REGULAR, "", 20);
    MergedTree tree = build(List.of(List.of(first, second)));
    assertThat(at(tree, "f").size()).isEqualTo(20);
  }

  @Test
  void addLayer_directoryOverDirectoryKeepsChildren() throws Exception {
    MergedTree tree =
        build(List.of(List.of(dir("d/"), file("d/x")), List.of(dir("d/"), file("d/y"))));
    assertThat(((DirectoryNode) at(tree, "d")).childCount()).isEqualTo(2);
  }

  @Test
  void addLayer_fileReplacingDirectoryDropsItsSubtree() throws Exception {
    MergedTree tree =
        build(List.of(List.of(dir("d/"), file("d/x"), hardlink("y", "d/x")), List.of(file("d"))));
    assertThat(at(tree, "d")).isInstanceOf(FileNode.class);
    assertThat(at(tree, "y").linkCount()).isEqualTo(1);
  }

  @Test
  void build_attributesFollowLinuxConventions() throws Exception {
    LayerEntry dev =
        new LayerEntry(
            "null".getBytes(UTF_8),
            EntryType.CHAR_DEVICE,
            0666,
            0,
            0,
            0,
            0,
            0,
            new byte[0],
            1,
            3,
            Map.of(),
            0);
    LayerEntry big =
        new LayerEntry(
            "dev259".getBytes(UTF_8),
            EntryType.BLOCK_DEVICE,
            0660,
            0,
            6,
            0,
            0,
            0,
            new byte[0],
            259,
            300,
            Map.of("user.k", new byte[] {1}),
            0);
    MergedTree tree =
        build(List.of(List.of(dev, big, symlink("s", "abc"), dir("d/"), dir("d/e/"), dir("d/f/"))));
    assertThat(at(tree, "null").rdev()).isEqualTo((1 << 8) | 3);
    assertThat(at(tree, "null").mode()).isEqualTo(0020666);
    assertThat(at(tree, "dev259").rdev())
        .isEqualTo((300 & 0xff) | (259 << 8) | ((300 & ~0xff) << 12));
    assertThat(at(tree, "dev259").xattrs()).containsKey("user.k");
    assertThat(at(tree, "s").size()).isEqualTo(3);
    assertThat(at(tree, "d").linkCount()).isEqualTo(4);
    assertThat(at(tree, "null").inode()).isNotEqualTo(at(tree, "s").inode());
  }

  @Test
  void resolve_symlinkLoopIsDetected() throws Exception {
    MergedTree tree = build(List.of(List.of(symlink("a", "b"), symlink("b", "a"))));
    assertThat(tree.loops("a".getBytes(UTF_8))).isTrue();
    assertThat(tree.resolve("a".getBytes(UTF_8), true)).isNull();
    assertThat(tree.resolve("a".getBytes(UTF_8), false)).isInstanceOf(SymlinkNode.class);
  }

  @Test
  void addLayer_nonUtf8NamesKeepTheirBytes() throws Exception {
    byte[] name = {'f', (byte) 0xff, (byte) 0xfe};
    MergedTree tree = build(List.of(List.of(entry(name, EntryType.REGULAR, "", 1))));
    assertThat(tree.root().nameAt(0).toBytes()).isEqualTo(name);
    assertThat(tree.resolve(name, false)).isInstanceOf(FileNode.class);
  }

  @Test
  void build_everyNodeHasAUniqueInode() throws Exception {
    List<LayerEntry> many = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      many.add(file("d" + (i % 10) + "/f" + i));
    }
    MergedTree tree = build(List.of(many));
    assertThat(tree.nodeCount()).isEqualTo(1 + 10 + 1000);
    for (long ino = 1; ino <= tree.nodeCount(); ino++) {
      assertThat(tree.node(ino).inode()).isEqualTo(ino);
    }
  }

  @Test
  void fileOrSymlinkEntryNamingTheRoot_isIgnoredLikeContainerd() throws Exception {
    // Such an entry made the whole image unmountable; containerd skips it.
    MergedTree tree =
        build(List.of(List.of(file("a"), file("../"), symlink("/", "/etc"), file("b"))));
    assertThat(tree.root().names()).extracting(Name::toString).containsExactly("a", "b");
  }
}
