package dev.lazypull.fs;

import dev.lazypull.fs.layer.BadLayerException;
import dev.lazypull.fs.layer.LayerReader;
import dev.lazypull.fs.tree.DirectoryNode;
import dev.lazypull.fs.tree.FileNode;
import dev.lazypull.fs.tree.MergedTree;
import dev.lazypull.fs.tree.Name;
import dev.lazypull.fs.tree.Node;
import dev.lazypull.fs.tree.SymlinkNode;
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
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves an image's merged tree through FUSE. Layers never change, so names and attributes get long
 * timeouts and open files keep the page cache. File bytes come from the file's layer: a file's data
 * is one contiguous range of its layer's uncompressed tar.
 */
public final class ImageFilesystem implements FuseFilesystem {
  private static final Logger log = LoggerFactory.getLogger(ImageFilesystem.class);

  /** Layers are immutable: the kernel may keep names and attributes as long as it likes. */
  private static final Duration TIMEOUT = Duration.ofDays(1);

  private static final byte[] DOT = {'.'};
  private static final byte[] DOT_DOT = {'.', '.'};

  private final MergedTree tree;
  private final List<? extends LayerReader> layers;
  private final Set<Long> verifiedFiles = ConcurrentHashMap.newKeySet();
  private final Map<String, Boolean> loggedFailures = new ConcurrentHashMap<>();
  private final LongConsumer readObserver;
  private final long totalBlocks;
  private volatile java.nio.file.@org.jspecify.annotations.Nullable Path passthroughDir;

  /** Files this size and up are handed to the kernel once all their bytes are cached. */
  private static final long PASSTHROUGH_MIN_SIZE = 1 << 20;

  /**
   * @param layers the image's layers, bottom first, as {@link FileNode#layerIndex()} counts them
   * @param readObserver told the inode of every file read, e.g. to record start-up accesses
   */
  public ImageFilesystem(
      MergedTree tree, List<? extends LayerReader> layers, LongConsumer readObserver) {
    this.tree = tree;
    this.layers = List.copyOf(layers);
    this.readObserver = readObserver;
    long blocks = 0;
    for (long ino = 1; ino <= tree.nodeCount(); ino++) {
      Node node = tree.node(ino);
      blocks += node == null ? 0 : node.blocks();
    }
    this.totalBlocks = blocks / 8;
  }

  /**
   * Lets opens of large files whose spans are all cached go through FUSE passthrough: the file's
   * bytes are copied once into a plain file under {@code dir}, and the kernel reads that file
   * directly, at local-disk speed. Without this, every read is served from the span cache.
   */
  public ImageFilesystem withPassthrough(java.nio.file.Path dir) {
    this.passthroughDir = dir;
    return this;
  }

  private Node node(long ino) throws FuseException {
    Node node = tree.node(ino);
    if (node == null) {
      throw new FuseException(Errno.ENOENT);
    }
    return node;
  }

  private static Attributes attributes(Node node) {
    return new Attributes(
        node.inode(),
        node.size(),
        node.blocks(),
        node.mtimeSeconds(),
        node.mtimeNanos(),
        node.mtimeSeconds(),
        node.mtimeNanos(),
        node.mtimeSeconds(),
        node.mtimeNanos(),
        node.mode(),
        node.linkCount(),
        node.uid(),
        node.gid(),
        (int) node.rdev(),
        4096);
  }

  private static Entry entry(Node node) {
    return Entry.of(attributes(node), TIMEOUT);
  }

  @Override
  public Entry lookup(Request request, long parent, byte[] name) throws FuseException {
    if (!(node(parent) instanceof DirectoryNode dir)) {
      throw new FuseException(Errno.ENOTDIR);
    }
    Node child = dir.lookup(Name.of(name));
    if (child == null) {
      throw new FuseException(Errno.ENOENT);
    }
    return entry(child);
  }

  @Override
  public TimedAttributes getattr(Request request, long ino) throws FuseException {
    return new TimedAttributes(attributes(node(ino)), TIMEOUT);
  }

  @Override
  public byte[] readlink(Request request, long ino) throws FuseException {
    if (!(node(ino) instanceof SymlinkNode link)) {
      throw new FuseException(Errno.EINVAL);
    }
    return link.target().clone();
  }

  @Override
  public OpenFile open(Request request, long ino, int flags) throws FuseException {
    Node node = node(ino);
    if (node instanceof DirectoryNode) {
      throw new FuseException(Errno.EISDIR);
    }
    if ((flags & 3) != 0) {
      throw new FuseException(Errno.EROFS); // O_WRONLY or O_RDWR on a read-only image
    }
    java.nio.file.Path dir = passthroughDir;
    // An O_DIRECT read of a passed-through file follows the backing file's alignment rules
    // (EINVAL where the disk wants aligned reads); through FUSE it takes any offset and length.
    // The kernel passes it through anyway while the inode has passed-through opens.
    boolean direct = (flags & dev.lazypull.fuse.linux.Libc.O_DIRECT) != 0;
    if (dir != null
        && !direct
        && node instanceof FileNode file
        && file.size() >= PASSTHROUGH_MIN_SIZE
        && layers.get(file.layerIndex()) instanceof dev.lazypull.fs.layer.IndexedLayer layer
        && layer.cached(file.uncompressedOffset(), file.size())
        && layer.cacheHasRoomFor(file.size())) {
      return passthrough(file, layer, dir);
    }
    return OpenFile.cached(0);
  }

  /** Hands a fully cached file to the kernel; falls back to ordinary reads if that fails. */
  private OpenFile passthrough(
      FileNode file, dev.lazypull.fs.layer.IndexedLayer layer, java.nio.file.Path dir)
      throws FuseException {
    if (!verifiedFiles.contains(file.inode())) {
      verifyHeader(file); // reads will bypass read(), where the check happens otherwise
      verifiedFiles.add(file.inode());
    }
    try {
      java.nio.file.Path local = layer.materialize(file.uncompressedOffset(), file.size(), dir);
      int fd =
          dev.lazypull.fuse.linux.Libc.open(
              local.toString().getBytes(StandardCharsets.UTF_8),
              dev.lazypull.fuse.linux.Libc.O_RDONLY | dev.lazypull.fuse.linux.Libc.O_CLOEXEC);
      if (fd >= 0) {
        // The kernel keeps its own reference to a registered backing file, and reads never need
        // this descriptor: one held per open file would let a reader opening a file many times
        // run the server out of descriptors.
        return OpenFile.passthroughClosingFd(0, fd);
      }
      log.debug("inode {}: cannot open {} for passthrough", file.inode(), local);
    } catch (IOException e) {
      log.debug("inode {}: no passthrough: {}", file.inode(), e.getMessage());
    }
    return OpenFile.cached(0);
  }

  private void verifyHeader(FileNode file) throws FuseException {
    LayerReader layer = layers.get(file.layerIndex());
    if (!layer.dataFollowsTarHeader()) {
      return;
    }
    long headerOffset = file.uncompressedOffset() - TarHeaderCheck.HEADER_SIZE;
    try {
      ByteBuffer header = ByteBuffer.allocate(TarHeaderCheck.HEADER_SIZE);
      if (headerOffset < 0 || layer.read(headerOffset, header) != TarHeaderCheck.HEADER_SIZE) {
        throw badIndex(layer, file, "the file's data offset leaves no room for its tar header");
      }
      String mismatch = TarHeaderCheck.mismatch(header.array(), file.size());
      if (mismatch != null) {
        throw badIndex(layer, file, mismatch);
      }
    } catch (IOException e) {
      throw failure("checking the tar header of", file, layer, e);
    }
  }

  private FuseException badIndex(LayerReader layer, FileNode file, String reason) {
    layer.markBad(
        "inode "
            + file.inode()
            + " at tar offset "
            + file.uncompressedOffset()
            + ": "
            + reason
            + "; the index does not match the layer");
    return new FuseException(Errno.EIO);
  }

  @Override
  public int read(
      Request request, long ino, long handle, long fileOffset, int size, MemorySegment into)
      throws FuseException {
    if (!(node(ino) instanceof FileNode file)) {
      throw new FuseException(Errno.EISDIR);
    }
    long length = Math.min(size, file.size() - fileOffset);
    if (length <= 0) {
      return 0;
    }
    readObserver.accept(ino);
    if (log.isTraceEnabled()) { // guarded: this is the hot path
      log.trace(
          "read inode {} (layer {}, tar offset {}): {} bytes at {}",
          ino,
          file.layerIndex(),
          file.uncompressedOffset(),
          length,
          fileOffset);
    }
    // Checked at the first read, not at open: many files are opened and never read, and the
    // check may need a span of its own. It runs beside the data read rather than before it, so
    // that a read waits for the registry at most once the read timeout, not once per step; the
    // data is returned only once the header has matched.
    java.util.concurrent.FutureTask<@Nullable Void> headerCheck = null;
    if (!verifiedFiles.contains(ino)) {
      headerCheck =
          new java.util.concurrent.FutureTask<>(
              () -> {
                verifyHeader(file);
                return null;
              });
      Thread.ofVirtual().name("header-check-", ino).start(headerCheck);
    }
    LayerReader layer = layers.get(file.layerIndex());
    ByteBuffer buffer = into.asSlice(0, length).asByteBuffer();
    int n;
    try {
      n = layer.read(file.uncompressedOffset() + fileOffset, buffer);
      if (n != length) {
        throw new IOException("layer ended " + (length - n) + " bytes early");
      }
    } catch (IOException e) {
      throw failure("reading", file, layer, e);
    }
    if (headerCheck != null) {
      awaitHeaderCheck(headerCheck);
      verifiedFiles.add(ino);
    }
    return n;
  }

  private static void awaitHeaderCheck(java.util.concurrent.FutureTask<@Nullable Void> check)
      throws FuseException {
    try {
      check.get();
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof FuseException fuse) {
        throw fuse;
      }
      throw new IllegalStateException("the tar header check failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FuseException(Errno.EINTR);
    }
  }

  /** Logs a failed read once per layer and cause, and answers EIO. */
  private FuseException failure(String action, FileNode file, LayerReader layer, IOException e) {
    String key = layer.describe() + e.getClass().getName() + e.getMessage();
    if (loggedFailures.putIfAbsent(key, Boolean.TRUE) == null || e instanceof BadLayerException) {
      log.error(
          "{} inode {} from layer {} failed with EIO: {}",
          action,
          file.inode(),
          layer.describe(),
          e.getMessage());
    }
    return new FuseException(Errno.EIO);
  }

  /** Listings come from the immutable tree by inode: nothing to hold per open directory. */
  @Override
  public boolean statelessDirectories() {
    return true;
  }

  @Override
  public void readdir(Request request, long ino, long handle, long offset, DirectoryFiller filler)
      throws FuseException {
    if (!(node(ino) instanceof DirectoryNode dir)) {
      throw new FuseException(Errno.ENOTDIR);
    }
    // Cookies: 1 after ".", 2 after "..", 3 + i after child i.
    long position = offset;
    if (position == 0) {
      if (!filler.add(DOT, ino, Attributes.S_IFDIR, 1)) {
        return;
      }
      position = 1;
    }
    if (position == 1) {
      if (!filler.add(DOT_DOT, ino, Attributes.S_IFDIR, 2)) {
        return;
      }
      position = 2;
    }
    for (int i = (int) (position - 2); i < dir.childCount(); i++) {
      Node child = dir.childAt(i);
      byte[] name = dir.nameAt(i).rawBytes();
      boolean added =
          filler.plus()
              ? filler.addEntry(name, entry(child), i + 3)
              : filler.add(name, child.inode(), child.mode(), i + 3);
      if (!added) {
        return;
      }
    }
  }

  @Override
  public FilesystemStats statfs(Request request, long ino) {
    return FilesystemStats.readOnly(totalBlocks, tree.nodeCount());
  }

  @Override
  public byte[] getxattr(Request request, long ino, byte[] name) throws FuseException {
    byte[] value = node(ino).xattrs().get(new String(name, StandardCharsets.UTF_8));
    if (value == null) {
      throw new FuseException(Errno.ENODATA);
    }
    return value.clone();
  }

  @Override
  public byte[] listxattr(Request request, long ino) throws FuseException {
    var out = new java.io.ByteArrayOutputStream();
    for (String key : node(ino).xattrs().keySet()) {
      out.writeBytes(key.getBytes(StandardCharsets.UTF_8));
      out.write(0);
    }
    return out.toByteArray();
  }

  /** Image files have no holes: all data up to the size, then the one hole at the end. */
  @Override
  public long lseek(Request request, long ino, long handle, long fileOffset, int whence)
      throws FuseException {
    long size = node(ino).size();
    if (fileOffset >= size) {
      throw new FuseException(Errno.ENXIO);
    }
    return whence == SEEK_DATA ? fileOffset : size;
  }
}
