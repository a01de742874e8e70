package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.snapshotter.SnapshotException.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The snapshot state machine and directory layout, without mounting anything. */
class SnapshotterTest {
  @TempDir Path root;

  private static void assertRefused(Reason reason, ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOf(SnapshotException.class)
        .extracting(e -> ((SnapshotException) e).reason())
        .isEqualTo(reason);
  }

  private static Path source(List<MountSpec> mounts) {
    return Path.of(mounts.getFirst().source());
  }

  @Test
  void prepare_noParent_isWritableBindOfItsOwnDir() throws Exception {
    try (var snapshotter = Snapshotter.open(root)) {
      List<MountSpec> mounts = snapshotter.prepare("a", "", Map.of());
      assertThat(mounts)
          .singleElement()
          .satisfies(
              m -> {
                assertThat(m.type()).isEqualTo("bind");
                assertThat(m.options()).containsExactly("rw", "rbind");
              });
      assertThat(source(mounts)).isDirectory().startsWith(root);
    }
  }

  @Test
  void prepare_onChain_isOverlayWithNearestParentFirst() throws Exception {
    try (var snapshotter = Snapshotter.open(root)) {
      Path bottom = source(snapshotter.prepare("a", "", Map.of()));
      snapshotter.commit("base", "a", Map.of());
      Path middle =
          Path.of(
              snapshotter
                  .prepare("b", "base", Map.of())
                  .getFirst()
                  .options()
                  .get(1)
                  .substring("upperdir=".length()));
      snapshotter.commit("mid", "b", Map.of());

      MountSpec top = snapshotter.prepare("c", "mid", Map.of()).getFirst();

      assertThat(top.type()).isEqualTo("overlay");
      assertThat(top.options().get(2)).isEqualTo("lowerdir=" + middle + ":" + bottom);
      assertThat(Path.of(top.options().get(0).substring("workdir=".length()))).isDirectory();
      MountSpec view = snapshotter.view("v", "mid", Map.of()).getFirst();
      assertThat(view.options()).containsExactly("lowerdir=" + middle + ":" + bottom);
      assertThat(snapshotter.view("v1", "base", Map.of()))
          .containsExactly(new MountSpec("bind", bottom.toString(), List.of("ro", "rbind")));
    }
  }

  @Test
  void commit_recordsUsageAndKind() throws Exception {
    try (var snapshotter = Snapshotter.open(root)) {
      Path dir = source(snapshotter.prepare("a", "", Map.of("x", "1")));
      Files.write(dir.resolve("file"), new byte[1234]);
      Files.createDirectory(dir.resolve("sub"));
      assertThat(snapshotter.usage("a")).isEqualTo(new Usage(1234, 3));

      snapshotter.commit("layer", "a", Map.of("y", "2"));

      Snapshot committed = snapshotter.stat("layer");
      assertThat(committed.kind()).isEqualTo(SnapshotKind.COMMITTED);
      assertThat(committed.labels()).containsEntry("x", "1").containsEntry("y", "2");
      assertThat(snapshotter.usage("layer")).isEqualTo(new Usage(1234, 3));
      assertRefused(Reason.NOT_FOUND, () -> snapshotter.stat("a"));
    }
  }

  @Test
  void refusals_carryTheStatusContainerdExpects() throws Exception {
    try (var snapshotter = Snapshotter.open(root)) {
      snapshotter.prepare("a", "", Map.of());
      assertRefused(Reason.ALREADY_EXISTS, () -> snapshotter.prepare("a", "", Map.of()));
      assertRefused(Reason.NOT_FOUND, () -> snapshotter.prepare("b", "nope", Map.of()));
      assertRefused(Reason.INVALID_ARGUMENT, () -> snapshotter.prepare("b", "a", Map.of()));
      assertRefused(Reason.NOT_FOUND, () -> snapshotter.commit("x", "nope", Map.of()));
      snapshotter.commit("base", "a", Map.of());
      assertRefused(
          Reason.FAILED_PRECONDITION, () -> snapshotter.commit("again", "base", Map.of()));
      snapshotter.prepare("child", "base", Map.of());
      assertRefused(Reason.FAILED_PRECONDITION, () -> snapshotter.remove("base"));
      assertRefused(Reason.ALREADY_EXISTS, () -> snapshotter.commit("base", "child", Map.of()));
      assertRefused(Reason.NOT_FOUND, () -> snapshotter.remove("nope"));
      assertRefused(Reason.NOT_FOUND, () -> snapshotter.mounts("nope"));
      assertRefused(Reason.NOT_FOUND, () -> snapshotter.usage("nope"));
    }
  }

  @Test
  void remove_deletesItsDirectory() throws Exception {
    try (var snapshotter = Snapshotter.open(root)) {
      Path dir = source(snapshotter.prepare("a", "", Map.of()));
      Files.writeString(dir.resolve("f"), "x");
      snapshotter.remove("a");
      assertThat(dir.getParent()).doesNotExist();
      assertThat(snapshotter.list(List.of())).isEmpty();
    }
  }

  @Test
  void cleanup_deletesOrphanedDirectoriesOnly() throws Exception {
    try (var snapshotter = Snapshotter.open(root)) {
      Path kept = source(snapshotter.prepare("a", "", Map.of()));
      Path orphan = Files.createDirectories(root.resolve("snapshots/999/fs"));
      snapshotter.cleanup();
      assertThat(orphan.getParent()).doesNotExist();
      assertThat(kept).isDirectory();
    }
  }

  @Test
  void update_setsAndRemovesSingleLabelsOrReplacesAll() throws Exception {
    try (var snapshotter = Snapshotter.open(root)) {
      snapshotter.prepare("a", "", Map.of("keep", "1", "drop", "2"));
      Snapshot updated =
          snapshotter.update("a", Map.of("new", "3"), List.of("labels.new", "labels.drop"));
      assertThat(updated.labels()).containsOnly(Map.entry("keep", "1"), Map.entry("new", "3"));
      assertThat(snapshotter.update("a", Map.of("only", "4"), List.of()).labels())
          .containsOnly(Map.entry("only", "4"));
      assertRefused(
          Reason.INVALID_ARGUMENT, () -> snapshotter.update("a", Map.of(), List.of("parent")));
    }
  }

  @Test
  void open_afterRestart_keepsSnapshotsAndChains() throws Exception {
    try (var snapshotter = Snapshotter.open(root)) {
      snapshotter.prepare("a", "", Map.of("l", "v"));
      snapshotter.commit("base", "a", Map.of());
      snapshotter.prepare("top", "base", Map.of());
    }
    try (var snapshotter = Snapshotter.open(root)) {
      assertThat(snapshotter.list(List.of()))
          .extracting(Snapshot::key, Snapshot::parent, Snapshot::kind)
          .containsExactly(
              org.assertj.core.api.Assertions.tuple("base", null, SnapshotKind.COMMITTED),
              org.assertj.core.api.Assertions.tuple("top", "base", SnapshotKind.ACTIVE));
      assertThat(snapshotter.stat("base").labels()).containsEntry("l", "v");
      assertThat(snapshotter.list(List.of("parent==base")))
          .extracting(Snapshot::key)
          .containsExactly("top");
    }
  }
}
