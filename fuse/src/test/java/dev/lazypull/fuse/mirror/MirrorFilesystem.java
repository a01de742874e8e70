package dev.lazypull.fuse.mirror;

import dev.lazypull.fuse.Attributes;
import dev.lazypull.fuse.DirectoryFiller;
import dev.lazypull.fuse.Entry;
import dev.lazypull.fuse.Errno;
import dev.lazypull.fuse.FilesystemStats;
import dev.lazypull.fuse.FuseException;
import dev.lazypull.fuse.FuseFilesystem;
import dev.lazypull.fuse.OpenFile;
import dev.lazypull.fuse.Request;
import dev.lazypull.fuse.TimedAttributes;
import dev.lazypull.fuse.linux.Libc;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A read-only mirror of a local directory, the transport's example filesystem. Inode numbers are
 * its own (the root is 1), one per source (st_dev, st_ino), so hardlinks share one. It never
 * forgets an inode: fine for a test, not for millions of files.
 */
public class MirrorFilesystem implements FuseFilesystem {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final byte[] DOT = {'.'};
  private static final byte[] DOT_DOT = {'.', '.'};

  private record SourceKey(long dev, long ino) {}

  private record Node(long id, byte[] path) {}

  private final boolean passthrough;
  private final ConcurrentHashMap<Long, Node> nodes = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<SourceKey, Node> bySource = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, List<byte[]>> listings = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong(FuseFilesystem.ROOT_INODE + 1);
  private final AtomicLong nextListing = new AtomicLong(1);
  private final LongAdder reads = new LongAdder();

  /** Mirrors {@code source}; with {@code passthrough}, opens offer the kernel the source file. */
  public MirrorFilesystem(byte[] source, boolean passthrough) throws Posix.PosixException {
    this.passthrough = passthrough;
    var stat = Posix.lstat(source);
    var root = new Node(FuseFilesystem.ROOT_INODE, source);
    nodes.put(root.id(), root);
    bySource.put(new SourceKey(stat.dev(), stat.ino()), root);
  }

  /** READ requests that reached this filesystem. */
  public long readCount() {
    return reads.sum();
  }

  /** Missing names are remembered by the kernel: the source does not change while mounted. */
  @Override
  public Entry lookup(Request request, long parent, byte[] name) throws FuseException {
    var path = child(node(parent).path(), name);
    Posix.Stat stat;
    try {
      stat = Posix.lstat(path);
    } catch (Posix.PosixException e) {
      if (e.errno == Errno.ENOENT) {
        return Entry.missing(TIMEOUT);
      }
      throw new FuseException(e.errno);
    }
    var node =
        bySource.computeIfAbsent(new SourceKey(stat.dev(), stat.ino()), key -> register(path));
    return Entry.of(attributes(node.id(), stat), TIMEOUT);
  }

  private Node register(byte[] path) {
    var node = new Node(nextId.getAndIncrement(), path);
    nodes.put(node.id(), node);
    return node;
  }

  @Override
  public TimedAttributes getattr(Request request, long ino) throws FuseException {
    return new TimedAttributes(attributes(ino, lstat(node(ino).path())), TIMEOUT);
  }

  @Override
  public byte[] readlink(Request request, long ino) throws FuseException {
    try {
      return Posix.readlink(node(ino).path());
    } catch (Posix.PosixException e) {
      throw new FuseException(e.errno);
    }
  }

  @Override
  public OpenFile open(Request request, long ino, int flags) throws FuseException {
    int fd = Libc.open(node(ino).path(), Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NOFOLLOW);
    if (fd < 0) {
      throw new FuseException(-fd);
    }
    return passthrough ? OpenFile.passthrough(fd, fd) : OpenFile.cached(fd);
  }

  @Override
  public int read(
      Request request, long ino, long handle, long fileOffset, int size, MemorySegment into)
      throws FuseException {
    reads.increment();
    long count = Libc.pread((int) handle, into, size, fileOffset);
    if (count < 0) {
      throw new FuseException((int) -count);
    }
    return (int) count;
  }

  @Override
  public void release(long ino, long handle) {
    Libc.close((int) handle);
  }

  @Override
  public long lseek(Request request, long ino, long handle, long fileOffset, int whence)
      throws FuseException {
    long result = Libc.lseek((int) handle, fileOffset, whence);
    if (result < 0) {
      throw new FuseException((int) -result);
    }
    return result;
  }

  @Override
  public OpenFile opendir(Request request, long ino, int flags) throws FuseException {
    try {
      var names = Posix.list(node(ino).path());
      long handle = nextListing.getAndIncrement();
      listings.put(handle, names);
      return OpenFile.cached(handle);
    } catch (Posix.PosixException e) {
      throw new FuseException(e.errno);
    }
  }

  /** Offsets are positions in the listing taken at opendir, plus one. */
  @Override
  public void readdir(Request request, long ino, long handle, long offset, DirectoryFiller filler)
      throws FuseException {
    var names = listings.get(handle);
    if (names == null) {
      throw new FuseException(Errno.EBADF);
    }
    var dir = node(ino);
    for (int i = (int) offset; i < names.size(); i++) {
      var name = names.get(i);
      boolean added;
      if (Arrays.equals(name, DOT) || Arrays.equals(name, DOT_DOT)) {
        added = filler.add(name, ino, Attributes.S_IFDIR, i + 1);
      } else if (filler.plus()) {
        var entry = lookup(request, ino, name);
        if (entry.isMissing()) {
          continue; // removed from the source since opendir
        }
        added = filler.addEntry(name, entry, i + 1);
      } else {
        var stat = lstat(child(dir.path(), name));
        var node =
            bySource.computeIfAbsent(
                new SourceKey(stat.dev(), stat.ino()), key -> register(child(dir.path(), name)));
        added = filler.add(name, node.id(), stat.mode(), i + 1);
      }
      if (!added) {
        return;
      }
    }
  }

  @Override
  public void releasedir(long ino, long handle) {
    listings.remove(handle);
  }

  @Override
  public byte[] getxattr(Request request, long ino, byte[] name) throws FuseException {
    try {
      return Posix.getxattr(node(ino).path(), name);
    } catch (Posix.PosixException e) {
      throw new FuseException(e.errno);
    }
  }

  @Override
  public byte[] listxattr(Request request, long ino) throws FuseException {
    try {
      return Posix.listxattr(node(ino).path());
    } catch (Posix.PosixException e) {
      throw new FuseException(e.errno);
    }
  }

  @Override
  public FilesystemStats statfs(Request request, long ino) {
    return FilesystemStats.readOnly(0, nodes.size());
  }

  private Node node(long ino) throws FuseException {
    var node = nodes.get(ino);
    if (node == null) {
      throw new FuseException(Errno.ENOENT);
    }
    return node;
  }

  private static byte[] child(byte[] directory, byte[] name) {
    var path = Arrays.copyOf(directory, directory.length + 1 + name.length);
    path[directory.length] = '/';
    System.arraycopy(name, 0, path, directory.length + 1, name.length);
    return path;
  }

  private static Posix.Stat lstat(byte[] path) throws FuseException {
    try {
      return Posix.lstat(path);
    } catch (Posix.PosixException e) {
      throw new FuseException(e.errno);
    }
  }

  private static Attributes attributes(long id, Posix.Stat s) {
    return new Attributes(
        id,
        s.size(),
        s.blocks(),
        s.atimeSeconds(),
        (int) s.atimeNanos(),
        s.mtimeSeconds(),
        (int) s.mtimeNanos(),
        s.ctimeSeconds(),
        (int) s.ctimeNanos(),
        s.mode(),
        (int) s.nlink(),
        s.uid(),
        s.gid(),
        Posix.kernelDevice(s.rdev()),
        (int) s.blksize());
  }

  /** The source path's bytes for a {@code java.nio} path string. */
  public static byte[] bytes(String path) {
    return path.getBytes(StandardCharsets.UTF_8);
  }
}
