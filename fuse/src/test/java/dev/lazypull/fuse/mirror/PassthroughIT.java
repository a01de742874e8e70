package dev.lazypull.fuse.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.fuse.FuseException;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.fuse.OpenFile;
import dev.lazypull.fuse.Request;
import dev.lazypull.fuse.linux.Libc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Passthrough: the kernel reads the backing file itself, so reads never reach the server. */
class PassthroughIT {
  @TempDir Path work;
  Path source;
  Path mountPoint;

  @BeforeEach
  void buildSource() throws Exception {
    FuseHost.require();
    source = Files.createDirectory(work.resolve("source"));
    mountPoint = Files.createDirectory(work.resolve("mnt"));
    SourceTree.random(source.resolve("random.bin"), 16 << 20, 3);
  }

  @Test
  void read_passthroughFile_neverReachesServer() throws Exception {
    var mirror = new MirrorFilesystem(SourceTree.bytes(source), true);

    try (var mount = FuseMount.mount(mountPoint, mirror, options())) {
      assertThat(mount.passthroughEnabled())
          .as("this kernel (6.9+) offers FUSE passthrough; it must be negotiated")
          .isTrue();

      assertSameBytes();
      assertThat(mount.requestCounts()).containsKey("OPEN").doesNotContainKey("READ");
    }
    assertThat(mirror.readCount()).isZero();
  }

  @Test
  void read_passthroughNotNegotiated_isServedByFilesystem() throws Exception {
    var mirror = new MirrorFilesystem(SourceTree.bytes(source), true);

    try (var mount = FuseMount.mount(mountPoint, mirror, options().withPassthrough(false))) {
      assertThat(mount.passthroughEnabled()).isFalse();

      assertSameBytes();
    }
    assertThat(mirror.readCount()).isPositive();
  }

  @Test
  void read_kernelRefusesBackingFile_isServedByFilesystem() throws Exception {
    var mirror = new DirectoryBackedMirror(SourceTree.bytes(source));

    try (var mount = FuseMount.mount(mountPoint, mirror, options())) {
      assertThat(mount.passthroughEnabled()).isTrue();

      assertSameBytes();
    }
    assertThat(mirror.readCount()).isPositive();
  }

  private void assertSameBytes() throws Exception {
    var bytes = Files.readAllBytes(mountPoint.resolve("random.bin"));
    assertThat(bytes).isEqualTo(Files.readAllBytes(source.resolve("random.bin")));
  }

  private static MountOptions options() {
    return MountOptions.defaults("lazypull-test", "mirror");
  }

  /** Offers a directory as the backing file, which FUSE_DEV_IOC_BACKING_OPEN refuses. */
  private static final class DirectoryBackedMirror extends MirrorFilesystem {
    private final byte[] source;
    private final Map<Long, Integer> directoryFds = new ConcurrentHashMap<>();

    DirectoryBackedMirror(byte[] source) throws Posix.PosixException {
      super(source, false);
      this.source = source;
    }

    @Override
    public OpenFile open(Request request, long ino, int flags) throws FuseException {
      var file = super.open(request, ino, flags);
      int directoryFd = Libc.open(source, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
      directoryFds.put(file.handle(), directoryFd);
      return OpenFile.passthrough(file.handle(), directoryFd);
    }

    @Override
    public void release(long ino, long handle) {
      Integer directoryFd = directoryFds.remove(handle);
      if (directoryFd != null) {
        Libc.close(directoryFd);
      }
      super.release(ino, handle);
    }
  }
}
