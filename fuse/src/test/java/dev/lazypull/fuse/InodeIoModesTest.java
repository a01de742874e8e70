package dev.lazypull.fuse;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InodeIoModesTest {
  private final List<Integer> registered = new ArrayList<>();
  private final List<Integer> unregistered = new ArrayList<>();
  private int nextId = 7;
  private boolean refuse;

  private final InodeIoModes modes =
      new InodeIoModes(
          fd -> {
            if (refuse) {
              return -1;
            }
            registered.add(fd);
            return nextId++;
          },
          unregistered::add);

  @Test
  void open_laterOpensOfAPassedThroughInode_shareItsBackingIdWhateverIsOffered() {
    assertThat(modes.open(1, 30)).isEqualTo(7);
    assertThat(modes.open(1, 31)).isEqualTo(7);
    assertThat(modes.open(1, -1)).isEqualTo(7);

    assertThat(registered).containsExactly(30);
  }

  @Test
  void open_offeredFdWhileTheInodeIsInPageCacheMode_isNotRegistered() {
    assertThat(modes.open(1, -1)).isZero();
    assertThat(modes.open(1, 30)).isZero();

    assertThat(registered).isEmpty();
  }

  @Test
  void release_lastOpen_unregistersTheBackingIdAndFreesTheInode() {
    modes.open(1, 30);
    modes.open(1, 31);

    modes.release(1);
    assertThat(unregistered).isEmpty();
    modes.release(1);
    assertThat(unregistered).containsExactly(7);
    assertThat(modes.inodesWithOpenFiles()).isZero();

    assertThat(modes.open(1, -1)).as("free again: page-cache mode is allowed").isZero();
  }

  @Test
  void open_kernelRefusesTheBackingFile_inodeIsInPageCacheMode() {
    refuse = true;
    assertThat(modes.open(1, 30)).isZero();
    refuse = false;

    assertThat(modes.open(1, 31)).as("not while the page-cache open is held").isZero();
    assertThat(registered).isEmpty();
  }

  @Test
  void release_ofAnOpenThisProcessNeverCounted_isIgnored() {
    modes.release(5); // e.g. a file opened before a hand-over to this process
    assertThat(modes.inodesWithOpenFiles()).isZero();
    assertThat(unregistered).isEmpty();
  }

  @Test
  void open_inodesAreIndependent() {
    assertThat(modes.open(1, 30)).isEqualTo(7);
    assertThat(modes.open(2, -1)).isZero();
    assertThat(modes.open(3, 32)).isEqualTo(8);
  }
}
