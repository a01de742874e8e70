package dev.lazypull.fuse.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.fuse.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mirror filesystem served through the transport: metadata, reads, tools, concurrency. */
class MirrorFilesystemIT {
  @TempDir static Path work;
  static Path source;
  static Path mountPoint;
  static ProbedMirror mirror;
  static FuseMount mount;

  @BeforeAll
  static void mountMirror() throws Exception {
    FuseHost.require();
    source = Files.createDirectory(work.resolve("source"));
    mountPoint = Files.createDirectory(work.resolve("mnt"));
    SourceTree.buildSmall(source);
    SourceTree.buildSparse(source.resolve("sparse.img"));
    SourceTree.buildMany(source.resolve("many"), 10_000);
    mirror = new ProbedMirror(SourceTree.bytes(source));
    var options = MountOptions.defaults("lazypull-test", "mirror").withPassthrough(false);
    mount = FuseMount.mount(mountPoint, mirror, options);
  }

  @AfterAll
  static void unmount() throws IOException {
    if (mount != null) {
      mount.close();
    }
  }

  @Test
  void stat_everyPath_matchesSource() throws Exception {
    var sourceToMountIno = new HashMap<Long, Long>();
    int compared = compareTree(new byte[0], sourceToMountIno);

    assertThat(compared).isGreaterThan(10_000);
    // Distinct source inodes map to distinct mount inodes; hardlinks share one (checked above).
    assertThat(new java.util.HashSet<>(sourceToMountIno.values())).hasSize(sourceToMountIno.size());
    var hardlink = Posix.lstat(SourceTree.bytes(mountPoint.resolve("dir/hardlink")));
    var original = Posix.lstat(SourceTree.bytes(mountPoint.resolve("a.txt")));
    assertThat(hardlink.ino()).isEqualTo(original.ino());
    assertThat(hardlink.nlink()).isEqualTo(2);
    var device = Posix.lstat(SourceTree.bytes(mountPoint.resolve("bigdev")));
    assertThat(device.rdev()).isEqualTo(Posix.makedev(300, 70000));
  }

  /** Compares {@code relative} and everything under it; returns how many paths it compared. */
  private int compareTree(byte[] relative, Map<Long, Long> sourceToMountIno) throws Exception {
    var sourcePath = join(SourceTree.bytes(source), relative);
    var mountPath = join(SourceTree.bytes(mountPoint), relative);
    var expected = Posix.lstat(sourcePath);
    var actual = Posix.lstat(mountPath);
    var name = new String(relative, java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(
            List.of(
                actual.mode(),
                actual.nlink(),
                actual.uid(),
                actual.gid(),
                actual.rdev(),
                actual.size(),
                actual.blocks(),
                actual.mtimeSeconds(),
                actual.mtimeNanos(),
                actual.ctimeSeconds(),
                actual.ctimeNanos()))
        .as("stat of /%s", name)
        .isEqualTo(
            List.of(
                expected.mode(),
                expected.nlink(),
                expected.uid(),
                expected.gid(),
                expected.rdev(),
                expected.size(),
                expected.blocks(),
                expected.mtimeSeconds(),
                expected.mtimeNanos(),
                expected.ctimeSeconds(),
                expected.ctimeNanos()));
    var known = sourceToMountIno.putIfAbsent(expected.ino(), actual.ino());
    assertThat(known == null ? actual.ino() : known)
        .as("inode of /%s", name)
        .isEqualTo(actual.ino());
    if (!expected.isDirectory()) {
      return 1;
    }
    var expectedNames = names(Posix.list(sourcePath));
    assertThat(names(Posix.list(mountPath))).as("entries of /%s", name).isEqualTo(expectedNames);
    int count = 1;
    for (var child : Posix.list(sourcePath)) {
      if (!Arrays.equals(child, new byte[] {'.'}) && !Arrays.equals(child, new byte[] {'.', '.'})) {
        count +=
            compareTree(relative.length == 0 ? child : join(relative, child), sourceToMountIno);
      }
    }
    return count;
  }

  @Test
  void xattr_listAndGet_matchSource() throws Exception {
    var dump = "getfattr --absolute-names -d -m - a.txt dir/hardlink";
    var fromMount = FuseHost.bash(mountPoint, dump);

    assertThat(new String(fromMount)).contains("user.origin=\"lazypull\"").contains("user.empty");
    assertThat(fromMount).isEqualTo(FuseHost.bash(source, dump));
    assertThatThrownBy(() -> FuseHost.run(mountPoint, "getfattr", "-n", "user.absent", "a.txt"))
        .hasMessageContaining("No such attribute");
  }

  @Test
  void readdir_tenThousandEntries_isComplete() throws Exception {
    var listed = names(Posix.list(SourceTree.bytes(mountPoint.resolve("many"))));

    assertThat(listed).hasSize(10_002);
    assertThat(listed).isEqualTo(names(Posix.list(SourceTree.bytes(source.resolve("many")))));
  }

  @Test
  void names_notUtf8_survive() throws Exception {
    var bad = new byte[] {'b', 'a', 'd', '-', (byte) 0xff, (byte) 0xfe, '.', 't', 'x', 't'};
    var listed = names(Posix.list(SourceTree.bytes(mountPoint)));

    assertThat(listed).contains(HexFormat.of().formatHex(bad));
    var stat = Posix.lstat(join(SourceTree.bytes(mountPoint), bad));
    assertThat(stat.size()).isEqualTo(10);
  }

  @Test
  void cp_sparseFile_copiesIdenticalBytes() throws Exception {
    var out = Files.createDirectories(work.resolve("cp-out"));
    var image = mountPoint.resolve("sparse.img").toString();

    FuseHost.run(out, "cp", image, "plain.img");
    FuseHost.run(out, "cp", "--sparse=always", image, "sparse.img");

    var original = source.resolve("sparse.img").toString();
    FuseHost.run(out, "cmp", original, "plain.img");
    FuseHost.run(out, "cmp", original, "sparse.img");
    var copy = Posix.lstat(SourceTree.bytes(out.resolve("sparse.img")));
    assertThat(copy.blocks() * 512).isLessThan(SourceTree.SPARSE_SIZE / 10);
  }

  @Test
  void lseek_dataAndHole_followSource() throws Exception {
    int fd = Libc.open(SourceTree.bytes(mountPoint.resolve("sparse.img")), Libc.O_RDONLY);
    assertThat(fd).isNotNegative();
    try {
      assertThat(Libc.lseek(fd, 0, Libc.SEEK_HOLE)).isEqualTo(1 << 20);
      assertThat(Libc.lseek(fd, 2 << 20, Libc.SEEK_DATA)).isEqualTo(SourceTree.SPARSE_SECOND_DATA);
      assertThat(Libc.lseek(fd, SourceTree.SPARSE_SIZE, Libc.SEEK_DATA)).isEqualTo(-6); // ENXIO
    } finally {
      Libc.close(fd);
    }
  }

  @Test
  void tools_findDuTarSha256sum_matchSource() throws Exception {
    var find = "find . -printf '%P\\t%y\\t%m\\t%n\\t%s\\t%U\\t%G\\t%T@\\t%l\\n' | sort";
    assertThat(FuseHost.bash(mountPoint, find)).isEqualTo(FuseHost.bash(source, find));
    var du = "du -a --block-size=1 . | sort";
    assertThat(FuseHost.bash(mountPoint, du)).isEqualTo(FuseHost.bash(source, du));
    var tar = "tar -c --sort=name -f - . | sha256sum";
    assertThat(FuseHost.bash(mountPoint, tar)).isEqualTo(FuseHost.bash(source, tar));
    var sums = "find . -type f -print0 | sort -z | xargs -0 sha256sum";
    assertThat(FuseHost.bash(mountPoint, sums)).isEqualTo(FuseHost.bash(source, sums));
  }

  @Test
  void read_eightParallelReaders_getRightBytes() throws Exception {
    var expected = sha256(source.resolve("random.bin"), 0);
    evictPageCache(mountPoint.resolve("random.bin")); // earlier tests may have read it
    long readsBefore = mirror.readCount();
    try (var pool = Executors.newFixedThreadPool(8)) {
      var results = new ArrayList<Future<String>>();
      for (int i = 0; i < 8; i++) {
        int reader = i;
        results.add(pool.submit(() -> sha256(mountPoint.resolve("random.bin"), reader)));
      }
      for (var result : results) {
        assertThat(result.get(60, TimeUnit.SECONDS)).isEqualTo(expected);
      }
    }
    assertThat(mirror.readCount()).isGreaterThan(readsBefore);
  }

  /**
   * A reply buffer made per request would cost at least its 4 KiB-1 MiB per READ. Below that, what
   * remains is JIT noise: until C2 compiles the loop, the FFM calls allocate tens of bytes per
   * request, more on a loaded machine, so the bound is loose on purpose.
   */
  private static final long GARBAGE_LIMIT = 256;

  /**
   * Once the JIT has compiled the read path (C2 removes what the interpreter and C1 allocate around
   * FFM calls), serving a READ allocates no buffer. Passes over a 200 MiB file repeat until one
   * allocates under GARBAGE_LIMIT bytes per READ, or fail after 10.
   */
  @Test
  void read_steadyState_allocatesNothingPerRequest() throws Exception {
    var file = mountPoint.resolve("sparse.img");
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    var workers =
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith("fuse-") && t.getName().endsWith("/mnt"))
            .mapToLong(Thread::threadId)
            .toArray();
    var perPass = new ArrayList<Long>();
    for (int pass = 0; pass < 10; pass++) {
      // Reading the file once and twice in one open, and taking the difference, leaves out
      // what the open, getattr and release cost: what remains is the cost of READs alone.
      long[] once = readsAndAllocation(file, 1, threads, workers);
      long[] twice = readsAndAllocation(file, 2, threads, workers);
      long reads = twice[0] - once[0];
      assertThat(reads).isGreaterThanOrEqualTo(100);
      long perRead = Math.max(0, twice[1] - once[1]) / reads;
      perPass.add(perRead);
      if (perRead < GARBAGE_LIMIT) {
        return;
      }
    }
    assertThat(perPass)
        .as("bytes allocated per READ in each pass")
        .anyMatch(bytes -> bytes < GARBAGE_LIMIT);
  }

  @Test
  void read_callbackThrows_givesEioAndLoopContinues() throws Exception {
    mirror.failingIno = Posix.lstat(SourceTree.bytes(mountPoint.resolve("explode.txt"))).ino();

    for (int attempt = 0; attempt < 3; attempt++) {
      assertThatThrownBy(() -> Files.readAllBytes(mountPoint.resolve("explode.txt")))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("Input/output error");
    }
    assertThat(Files.readString(mountPoint.resolve("owned"))).isEqualTo("owned by someone else\n");
    assertThat(mount.serving()).isTrue();
  }

  @Test
  void read_interruptedCaller_letsFilesystemGiveUp() throws Exception {
    mirror.slowIno = Posix.lstat(SourceTree.bytes(mountPoint.resolve("slow.txt"))).ino();
    var cat = new ProcessBuilder("cat", mountPoint.resolve("slow.txt").toString()).start();
    try {
      assertThat(mirror.slowReadStarted.await(20, TimeUnit.SECONDS)).isTrue();
      FuseHost.bash(work, "kill -INT " + cat.pid());

      assertThat(mirror.slowReadInterrupted.await(20, TimeUnit.SECONDS)).isTrue();
      assertThat(cat.waitFor(20, TimeUnit.SECONDS)).isTrue();
    } finally {
      cat.destroyForcibly();
    }
    assertThat(Files.readString(mountPoint.resolve("a.txt"))).isEqualTo("hello\n");
  }

  @Test
  void unknownOperation_getsEnosys() throws Exception {
    int fd = Libc.open(SourceTree.bytes(mountPoint.resolve("a.txt")), Libc.O_RDONLY);
    assertThat(fd).isNotNegative();
    int result;
    try (var arena = Arena.ofConfined()) {
      // FS_IOC_GETFLAGS = _IOR('f', 1, long) reaches the server as FUSE_IOCTL (opcode 39).
      result = Libc.ioctl(fd, 0x80086601L, arena.allocate(8));
    } finally {
      Libc.close(fd);
    }

    assertThat(mount.requestCounts()).containsKey("opcode 39");
    // The kernel turns the ENOSYS answer into ENOTTY or, for file attributes, EOPNOTSUPP; an
    // error from a broken reply would be EIO or EINVAL.
    assertThat(result).isIn(-25, -95);
  }

  @Test
  void lookup_missingName_isCachedByKernel() throws Exception {
    var missing = SourceTree.bytes(mountPoint.resolve("dir-that-does-not-exist"));
    long before = mount.requestCounts().getOrDefault("LOOKUP", 0L);

    for (int attempt = 0; attempt < 3; attempt++) {
      assertThatThrownBy(() -> Posix.lstat(missing))
          .isInstanceOfSatisfying(
              Posix.PosixException.class, e -> assertThat(e.errno).isEqualTo(2)); // ENOENT
    }

    assertThat(mount.requestCounts().getOrDefault("LOOKUP", 0L) - before).isEqualTo(1);
  }

  @Test
  void mount_showsSourceAndSubtype() throws Exception {
    assertThat(FuseHost.mountLine(mountPoint))
        .startsWith("lazypull-test " + mountPoint + " fuse.mirror ro,nosuid,nodev");
  }

  private static void evictPageCache(Path file) {
    int fd = Libc.open(SourceTree.bytes(file), Libc.O_RDONLY);
    assertThat(fd).isNotNegative();
    try {
      assertThat(Libc.fadvise(fd, 0, 0, Libc.POSIX_FADV_DONTNEED)).isZero();
    } finally {
      Libc.close(fd);
    }
  }

  /** READ requests and bytes the workers allocated while reading the file {@code times}. */
  private long[] readsAndAllocation(
      Path file, int times, com.sun.management.ThreadMXBean threads, long[] workers)
      throws Exception {
    long readsBefore = mount.requestCounts().getOrDefault("READ", 0L);
    long allocatedBefore = Arrays.stream(threads.getThreadAllocatedBytes(workers)).sum();
    try (var channel = FileChannel.open(file)) {
      var buffer = ByteBuffer.allocate(1 << 16);
      for (int i = 0; i < times; i++) {
        evictPageCache(file);
        channel.position(0);
        while (channel.read(buffer) >= 0) {
          buffer.clear();
        }
      }
    }
    return new long[] {
      mount.requestCounts().getOrDefault("READ", 0L) - readsBefore,
      Arrays.stream(threads.getThreadAllocatedBytes(workers)).sum() - allocatedBefore
    };
  }

  private static String sha256(Path file, int reader) throws Exception {
    var digest = MessageDigest.getInstance("SHA-256");
    try (var channel = FileChannel.open(file)) {
      var buffer = ByteBuffer.allocate(16384 * (reader + 1));
      while (channel.read(buffer) >= 0) {
        digest.update(buffer.flip());
        buffer.clear();
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static List<String> names(List<byte[]> raw) {
    return raw.stream().map(HexFormat.of()::formatHex).sorted().toList();
  }

  private static byte[] join(byte[] directory, byte[] name) {
    var path = Arrays.copyOf(directory, directory.length + 1 + name.length);
    path[directory.length] = '/';
    System.arraycopy(name, 0, path, directory.length + 1, name.length);
    return path;
  }
}
