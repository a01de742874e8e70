package dev.lazypull.fuse.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.fuse.FuseException;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.fuse.OpenFile;
import dev.lazypull.fuse.Request;
import dev.lazypull.fuse.linux.Libc;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
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

  // Since Linux 6.9 the open files of one inode are either all in page-cache mode or all passed
  // through to one backing file; an open answered otherwise fails in the opener with EIO. The
  // transport keeps each inode in the mode its open files have, whatever the filesystem offers.

  @Test
  void open_twoPassthroughOpensOfOneFile_shareOneBackingFile() throws Exception {
    var mirror = new MirrorFilesystem(SourceTree.bytes(source), true);

    try (var mount = FuseMount.mount(mountPoint, mirror, options());
        var first = FileChannel.open(mountPoint.resolve("random.bin"));
        var second = FileChannel.open(mountPoint.resolve("random.bin"))) {
      assertThat(readAll(second)).isEqualTo(expected());
      assertThat(readAll(first)).isEqualTo(expected());
      assertThat(mount.requestCounts()).doesNotContainKey("READ");
    }
  }

  @Test
  void open_offeredPassthroughWhileAPageCacheOpenIsHeld_staysInPageCacheMode() throws Exception {
    var mirror = new SwitchingMirror(SourceTree.bytes(source));

    try (var mount = FuseMount.mount(mountPoint, mirror, options())) {
      try (var cachedOpen = FileChannel.open(mountPoint.resolve("random.bin"))) {
        mirror.offerPassthrough = true;
        try (var offered = FileChannel.open(mountPoint.resolve("random.bin"))) {
          assertThat(readAll(offered)).isEqualTo(expected());
        }
        assertThat(readAll(cachedOpen)).isEqualTo(expected());
      }
      awaitReleases(mount, 2);
      // Both closed: the inode is free again, and the next open passes through.
      evictPageCache();
      long reads = mirror.readCount();
      assertSameBytes();
      assertThat(mirror.readCount()).isEqualTo(reads);
    }
  }

  @Test
  void open_notOfferedPassthroughWhileAPassthroughOpenIsHeld_sharesItsBackingFile()
      throws Exception {
    var mirror = new SwitchingMirror(SourceTree.bytes(source));
    mirror.offerPassthrough = true;

    try (var mount = FuseMount.mount(mountPoint, mirror, options());
        var passedThrough = FileChannel.open(mountPoint.resolve("random.bin"))) {
      mirror.offerPassthrough = false;
      try (var notOffered = FileChannel.open(mountPoint.resolve("random.bin"))) {
        assertThat(readAll(notOffered)).isEqualTo(expected());
      }
      assertThat(readAll(passedThrough)).isEqualTo(expected());
      assertThat(mirror.readCount()).isZero();
    }
  }

  private byte[] expected() throws Exception {
    return Files.readAllBytes(source.resolve("random.bin"));
  }

  private static byte[] readAll(FileChannel channel) throws Exception {
    var buffer = java.nio.ByteBuffer.allocate(Math.toIntExact(channel.size()));
    while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) > 0) {
      // pread until full
    }
    return buffer.array();
  }

  private void evictPageCache() {
    byte[] path = mountPoint.resolve("random.bin").toString().getBytes(StandardCharsets.UTF_8);
    int fd = Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC);
    assertThat(fd).as("open for posix_fadvise").isNotNegative();
    try {
      assertThat(Libc.fadvise(fd, 0, 0, Libc.POSIX_FADV_DONTNEED)).isZero();
    } finally {
      Libc.close(fd);
    }
  }

  /** RELEASE reaches the server after close() returns; waits until it has seen {@code count}. */
  private static void awaitReleases(FuseMount mount, long count) throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    while (mount.requestCounts().getOrDefault("RELEASE", 0L) < count) {
      assertThat(System.nanoTime()).as("RELEASE within 10 s").isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  private void assertSameBytes() throws Exception {
    var bytes = Files.readAllBytes(mountPoint.resolve("random.bin"));
    assertThat(bytes).isEqualTo(Files.readAllBytes(source.resolve("random.bin")));
  }

  private static MountOptions options() {
    return MountOptions.defaults("lazypull-test", "mirror");
  }

  /** Offers passthrough only while {@link #offerPassthrough} is set. */
  private static final class SwitchingMirror extends MirrorFilesystem {
    volatile boolean offerPassthrough;

    SwitchingMirror(byte[] source) throws Posix.PosixException {
      super(source, false);
    }

    @Override
    public OpenFile open(Request request, long ino, int flags) throws FuseException {
      var file = super.open(request, ino, flags);
      return offerPassthrough ? OpenFile.passthrough(file.handle(), (int) file.handle()) : file;
    }
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
