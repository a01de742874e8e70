package dev.lazypull.fuse;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A filesystem whose directories need no open state is never asked OPENDIR or RELEASEDIR. */
class StatelessDirectoriesIT {
  private static final Duration FOREVER = Duration.ofDays(1);
  private static final List<String> NAMES = List.of("a", "b", "c");

  @TempDir Path work;

  /** A root directory (inode 1) holding three empty files (inodes 2, 3, 4). */
  static final class ThreeFiles implements FuseFilesystem {
    final AtomicInteger opendirs = new AtomicInteger();
    final AtomicInteger releasedirs = new AtomicInteger();
    final AtomicInteger readdirs = new AtomicInteger();

    @Override
    public boolean statelessDirectories() {
      return true;
    }

    @Override
    public OpenFile opendir(Request request, long ino, int flags) {
      opendirs.incrementAndGet();
      return OpenFile.cached(0);
    }

    @Override
    public void releasedir(long ino, long handle) {
      releasedirs.incrementAndGet();
    }

    @Override
    public Entry lookup(Request request, long parent, byte[] name) {
      int i = NAMES.indexOf(new String(name, java.nio.charset.StandardCharsets.UTF_8));
      return parent == 1 && i >= 0 ? Entry.of(attributes(i + 2), FOREVER) : Entry.missing(FOREVER);
    }

    @Override
    public TimedAttributes getattr(Request request, long ino) {
      return new TimedAttributes(attributes(ino), FOREVER);
    }

    @Override
    public OpenFile open(Request request, long ino, int flags) {
      return OpenFile.cached(0);
    }

    @Override
    public int read(
        Request request, long ino, long handle, long fileOffset, int size, MemorySegment into) {
      return 0;
    }

    @Override
    public void readdir(
        Request request, long ino, long handle, long offset, DirectoryFiller filler) {
      readdirs.incrementAndGet();
      for (long i = offset; i < NAMES.size(); i++) {
        byte[] name = NAMES.get((int) i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (!filler.add(name, i + 2, Attributes.S_IFREG | 0644, i + 1)) {
          return;
        }
      }
    }

    private static Attributes attributes(long ino) {
      int mode = ino == 1 ? Attributes.S_IFDIR | 0755 : Attributes.S_IFREG | 0644;
      return new Attributes(ino, 0, 0, 0, 0, 0, 0, 0, 0, mode, ino == 1 ? 2 : 1, 0, 0, 0, 4096);
    }
  }

  @Test
  void listing_twice_noOpendirAndTheListingComesFromTheKernelCache() throws Exception {
    var fs = new ThreeFiles();
    Path mountPoint = Files.createDirectory(work.resolve("m"));
    try (var mount =
        FuseMount.mount(
            mountPoint, fs, MountOptions.defaults("lazypull-test", "stateless").withWorkers(1))) {
      assertThat(list(mountPoint)).containsExactly("a", "b", "c");
      int readdirsAfterFirst = fs.readdirs.get();
      assertThat(list(mountPoint)).containsExactly("a", "b", "c");

      assertThat(fs.opendirs.get()).as("opendir calls").isZero();
      assertThat(fs.releasedirs.get()).as("releasedir calls").isZero();
      assertThat(readdirsAfterFirst).as("readdir calls of the first listing").isPositive();
      assertThat(fs.readdirs.get())
          .as("readdir calls after the second")
          .isEqualTo(readdirsAfterFirst);
    }
  }

  private static List<String> list(Path dir) throws Exception {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
