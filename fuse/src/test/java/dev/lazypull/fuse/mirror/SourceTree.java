package dev.lazypull.fuse.mirror;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Random;

/** Builds the directory the tests mirror: every kind of file a container image holds. */
final class SourceTree {
  static final long SPARSE_SIZE = 200L << 20;
  static final long SPARSE_SECOND_DATA = 100L << 20;

  private SourceTree() {}

  /** Small files, links, devices, odd names and owners. */
  static void buildSmall(Path root) throws Exception {
    Files.writeString(root.resolve("a.txt"), "hello\n");
    var dir = Files.createDirectory(root.resolve("dir"));
    Files.createLink(dir.resolve("hardlink"), root.resolve("a.txt"));
    Files.createSymbolicLink(root.resolve("link"), Path.of("a.txt"));
    Files.createSymbolicLink(dir.resolve("dangling"), Path.of("../nowhere"));
    Posix.mknod(bytes(root.resolve("chardev")), 0020644, Posix.makedev(1, 3));
    Posix.mknod(bytes(root.resolve("bigdev")), 0020600, Posix.makedev(300, 70000));
    Posix.mknod(bytes(root.resolve("fifo")), 0010644, 0);
    var owned = Files.writeString(root.resolve("owned"), "owned by someone else\n");
    Files.setAttribute(owned, "unix:uid", 1234);
    Files.setAttribute(owned, "unix:gid", 5678);
    Files.setPosixFilePermissions(owned, PosixFilePermissions.fromString("rw----r--"));
    Files.setLastModifiedTime(
        owned, FileTime.from(Instant.ofEpochSecond(1_600_000_000L, 123_456_789)));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));
    // Names that are not UTF-8, made by the shell from raw bytes.
    FuseHost.bash(
        root,
        "n=$(printf 'bad-\\xff\\xfe.txt'); printf 'not utf-8\\n' > \"$n\";"
            + " d=$(printf 'dir-\\xc3\\x28'); mkdir \"$d\"; printf x > \"$d/$(printf '\\x80')\"");
    random(root.resolve("random.bin"), 16 << 20, 1);
    FuseHost.run(root, "setfattr", "-n", "user.origin", "-v", "lazypull", "a.txt");
    FuseHost.run(root, "setfattr", "-n", "user.empty", "a.txt");
    Files.writeString(root.resolve("explode.txt"), "reading this fails\n");
    Files.writeString(root.resolve("slow.txt"), "reading this waits for an interrupt\n");
  }

  /** A 200 MiB sparse file with data at its start, middle and end. */
  static void buildSparse(Path file) throws IOException {
    try (var channel =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      var data = new byte[1 << 20];
      new Random(2).nextBytes(data);
      channel.write(ByteBuffer.wrap(data), 0);
      channel.write(ByteBuffer.wrap(data), SPARSE_SECOND_DATA);
      channel.write(ByteBuffer.wrap(data, 0, 4096), SPARSE_SIZE - 4096);
    }
  }

  /** A directory of {@code count} empty files. */
  static void buildMany(Path dir, int count) throws IOException {
    Files.createDirectory(dir);
    for (int i = 0; i < count; i++) {
      Files.createFile(dir.resolve("file-%05d".formatted(i)));
    }
  }

  static void random(Path file, int size, long seed) throws IOException {
    var data = new byte[size];
    new Random(seed).nextBytes(data);
    Files.write(file, data);
  }

  static byte[] bytes(Path path) {
    return MirrorFilesystem.bytes(path.toString());
  }
}
