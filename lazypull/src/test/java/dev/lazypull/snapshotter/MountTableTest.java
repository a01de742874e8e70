package dev.lazypull.snapshotter;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MountTableTest {
  @Test
  void parsesALineWithOptionalFieldsAndEscapedNames() {
    var entry =
        MountTable.parse(
                "82 29 0:52 / /var/lib/lazy\\040pull/snapshots/1/fs ro,nosuid,nodev,relatime"
                    + " shared:40 master:1 - fuse.lazypull lazypull:sha256:ab rw,user_id=0")
            .orElseThrow();
    assertThat(entry.mountId()).isEqualTo(82);
    assertThat(entry.mountPoint()).isEqualTo("/var/lib/lazy pull/snapshots/1/fs");
    assertThat(entry.fsType()).isEqualTo("fuse.lazypull");
    assertThat(entry.source()).isEqualTo("lazypull:sha256:ab");
  }

  @Test
  void ignoresWhatIsNotAMountinfoLine() {
    assertThat(MountTable.parse("")).isEmpty();
    assertThat(MountTable.parse("x y z")).isEmpty();
    assertThat(MountTable.parse("a 29 0:52 / /m rw - ext4 /dev/x rw")).isEmpty();
  }

  @Test
  void unescapesOctalAndLeavesOtherBackslashesAlone() {
    assertThat(MountTable.unescape("a\\011b\\134c\\012")).isEqualTo("a\tb\\c\n");
    assertThat(MountTable.unescape("a\\9b")).isEqualTo("a\\9b");
  }

  @Test
  void readsThisProcessesMountTable() throws Exception {
    assertThat(MountTable.read()).anySatisfy(e -> assertThat(e.mountPoint()).isEqualTo("/"));
  }
}
