package dev.lazypull.fuse.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Passthrough: the kernel reads the backing file itself, so reads never reach the server. */
class PassthroughIT {
  @TempDir Path work;

  @Test
  void read_passthroughFile_neverReachesServer() throws Exception {
    FuseHost.require();
    var source = Files.createDirectory(work.resolve("source"));
    var mountPoint = Files.createDirectory(work.resolve("mnt"));
    SourceTree.random(source.resolve("random.bin"), 16 << 20, 3);
    var mirror = new MirrorFilesystem(SourceTree.bytes(source), true);

    try (var mount =
        FuseMount.mount(mountPoint, mirror, MountOptions.defaults("lazypull-test", "mirror"))) {
      assertThat(mount.passthroughEnabled())
          .as("this kernel (6.9+) offers FUSE passthrough; it must be negotiated")
          .isTrue();

      var bytes = Files.readAllBytes(mountPoint.resolve("random.bin"));

      assertThat(bytes).isEqualTo(Files.readAllBytes(source.resolve("random.bin")));
      FuseHost.run(
          work,
          "cmp",
          source.resolve("random.bin").toString(),
          mountPoint.resolve("random.bin").toString());
      assertThat(mount.requestCounts()).containsKey("OPEN").doesNotContainKey("READ");
    }
    assertThat(mirror.readCount()).isZero();
  }
}
