package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SnapshotFilterTest {
  private static final Snapshot LAYER =
      new Snapshot(
          7,
          "default/3/sha256:bbb",
          "default/2/sha256:aaa",
          SnapshotKind.COMMITTED,
          Instant.EPOCH,
          Instant.EPOCH,
          Map.of(SnapshotLabels.TARGET_REF, "sha256:bbb", "plain", "x"),
          Usage.NONE);

  private static boolean matches(String filter) throws SnapshotException {
    return SnapshotFilter.parse(filter).matches(LAYER);
  }

  @Test
  void parse_containerdTargetRefFilter_matchesOnlyTheRightLabelAndParent() throws Exception {
    assertThat(
            matches(
                "labels.\"containerd.io/snapshot.ref\"==sha256:bbb,parent==\"default/2/sha256:aaa\""))
        .isTrue();
    assertThat(
            matches(
                "labels.\"containerd.io/snapshot.ref\"==sha256:bbb,parent==\"default/2/sha256:zzz\""))
        .isFalse();
    assertThat(matches("labels.\"containerd.io/snapshot.ref\"==sha256:ccc")).isFalse();
  }

  @Test
  void parse_otherOperators_work() throws Exception {
    assertThat(matches("kind==committed")).isTrue();
    assertThat(matches("kind!=committed")).isFalse();
    assertThat(matches("name~=sha256:b+$")).isTrue();
    assertThat(matches("labels.plain")).isTrue();
    assertThat(matches("labels.missing")).isFalse();
    assertThat(matches("")).isTrue();
  }

  @Test
  void parse_emptyParent_matchesOnlyBottomSnapshots() throws Exception {
    Snapshot bottom =
        new Snapshot(
            1,
            "k",
            null,
            SnapshotKind.COMMITTED,
            Instant.EPOCH,
            Instant.EPOCH,
            Map.of(),
            Usage.NONE);
    assertThat(SnapshotFilter.parse("parent==\"\"").matches(bottom)).isTrue();
    assertThat(SnapshotFilter.parse("parent==\"\"").matches(LAYER)).isFalse();
    assertThat(SnapshotFilter.parse("parent").matches(bottom)).isFalse();
  }

  @Test
  void parse_malformed_isInvalidArgument() {
    assertThatThrownBy(() -> SnapshotFilter.parse("name=x"))
        .isInstanceOf(SnapshotException.class)
        .extracting(e -> ((SnapshotException) e).reason())
        .isEqualTo(SnapshotException.Reason.INVALID_ARGUMENT);
    assertThatThrownBy(() -> SnapshotFilter.parse("labels.\"open==x"))
        .isInstanceOf(SnapshotException.class);
  }
}
