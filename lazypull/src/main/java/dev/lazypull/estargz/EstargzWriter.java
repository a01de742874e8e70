package dev.lazypull.estargz;

import dev.lazypull.oci.Digest;
import dev.lazypull.tar.TarEntry;
import dev.lazypull.tar.TarEntryType;
import dev.lazypull.tar.TarReader;
import dev.lazypull.ztoc.ByteText;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.Deflater;
import org.jspecify.annotations.Nullable;

/**
 * Rewrites an uncompressed layer tar as eStargz: every entry's header bytes copied exactly, each
 * regular file's payload in gzip members of its own (large files split into chunks), a landmark,
 * and the TOC as the last tar entry followed by the footer. Start-up files, when given, are moved
 * to the front (after their parent directories) and followed by {@code .prefetch.landmark}.
 */
public final class EstargzWriter {
  public static final long DEFAULT_CHUNK_SIZE = 4L << 20;

  /** The one byte of a landmark file. */
  static final byte LANDMARK_CONTENT = 0x0f;

  private static final int COPY_BUFFER = 1 << 20;

  /**
   * How to write.
   *
   * @param chunkSize files larger than this are split into chunks of this size
   * @param prefetchFiles clean paths of the workload's start-up files; empty for none
   * @param gzipLevel 0-9; the reference writer uses 9
   */
  public record Options(long chunkSize, List<String> prefetchFiles, int gzipLevel) {
    public Options {
      if (chunkSize <= 0) {
        throw new IllegalArgumentException("chunk size must be positive: " + chunkSize);
      }
      GzipMembers.checkLevel(gzipLevel);
      prefetchFiles = prefetchFiles.stream().map(TocEntry::cleanName).toList();
    }

    public static Options defaults() {
      return new Options(DEFAULT_CHUNK_SIZE, List.of(), Deflater.BEST_COMPRESSION);
    }
  }

  /**
   * What was written.
   *
   * @param digest the eStargz blob's digest
   * @param size the blob's size
   * @param diffId the sha256 of the uncompressed tar (the image config's diff id)
   * @param uncompressedSize the uncompressed tar's length
   * @param tocDigest the sha256 of the TOC JSON (the {@code toc.digest} annotation)
   */
  public record Result(
      Digest digest, long size, Digest diffId, long uncompressedSize, Digest tocDigest) {}

  private final Options options;

  public EstargzWriter(Options options) {
    this.options = options;
  }

  /** Converts {@code sourceTar} (uncompressed; eStargz leftovers are dropped) into {@code out}. */
  public Result write(Path sourceTar, OutputStream out) throws IOException {
    List<Slice> slices = scan(sourceTar);
    var gz = new GzipMembers(out, options.gzipLevel());
    List<TocEntry> toc = new ArrayList<>();
    try (FileChannel source = FileChannel.open(sourceTar, StandardOpenOption.READ)) {
      var copier = new SliceCopier(source, gz, toc);
      List<Slice> prefetch = prefetchOrder(slices);
      if (prefetch.isEmpty()) {
        writeLandmark(gz, toc, EstargzIndex.NO_PREFETCH_LANDMARK);
      } else {
        for (Slice slice : prefetch) {
          copier.copy(slice);
        }
        writeLandmark(gz, toc, EstargzIndex.PREFETCH_LANDMARK);
      }
      // A moved name's earlier occurrences are dropped: written after the moved (last) one,
      // they would win on extraction.
      Set<String> moved = new java.util.HashSet<>();
      prefetch.forEach(slice -> moved.add(TocEntry.cleanName(slice.entry().name())));
      for (Slice slice : slices) {
        if (!moved.contains(TocEntry.cleanName(slice.entry().name()))) {
          copier.copy(slice);
        }
      }
    }
    Digest tocDigest = writeToc(gz, new Toc(1, toc));
    return new Result(
        gz.compressedDigest(),
        gz.compressedOffset(),
        gz.uncompressedDigest(),
        gz.uncompressedSize(),
        tocDigest);
  }

  /**
   * One source entry and the source bytes that belong to it: from the end of the previous entry's
   * padded data (so that global PAX headers travel with the entry after them) to the end of its own
   * padded data.
   */
  private record Slice(TarEntry entry, long sourceStart, long sourceEnd) {
    long dataEnd() {
      return entry.uncompressedOffset() + entry.size();
    }
  }

  private static List<Slice> scan(Path sourceTar) throws IOException {
    List<Slice> slices = new ArrayList<>();
    long previousEnd = 0;
    try (InputStream in = new BufferedInputStream(Files.newInputStream(sourceTar), 1 << 16)) {
      var reader = new TarReader(in);
      for (TarEntry entry = reader.next(); entry != null; entry = reader.next()) {
        if (entry.sparse()) {
          throw new EstargzException(
              "entry "
                  + entry.name()
                  + " is a sparse file, which eStargz cannot describe; rebuild the layer"
                  + " without sparse files");
        }
        refuseNonUtf8(entry);
        long end = entry.uncompressedOffset() + entry.size() + TarHeaderBlock.padding(entry.size());
        if (!EstargzIndex.isFormatEntry(TocEntry.cleanName(entry.name()))) {
          slices.add(new Slice(entry, previousEnd, end));
        }
        previousEnd = end;
      }
    }
    return slices;
  }

  /**
   * Refuses a name or link target that is not UTF-8. The TOC is JSON, which carries only Unicode
   * text; the reference writer (Go's encoding/json) silently turns each bad byte into U+FFFD, so
   * the TOC would name a different file than the tar, and two such names could become one. A
   * refusal leaves the user the SOCI index, which keeps names as bytes.
   */
  private static void refuseNonUtf8(TarEntry entry) throws EstargzException {
    for (byte[] name : List.of(entry.rawName(), entry.rawLinkName())) {
      if (!ByteText.isUtf8(name)) {
        throw new EstargzException(
            "entry "
                + ByteText.textOrHex(entry.rawName())
                + (name == entry.rawName() ? " has a name" : " has a link target")
                + " that is not UTF-8, which an eStargz TOC (JSON) cannot carry; keep the image"
                + " in gzip and give it a SOCI index (lazypull index) instead");
      }
    }
  }

  /**
   * The start-up files found in this layer, each after the root, its parent directories and, for a
   * hardlink, its target (a link must come after what it names).
   */
  private List<Slice> prefetchOrder(List<Slice> slices) {
    if (options.prefetchFiles().isEmpty()) {
      return List.of();
    }
    Map<String, Slice> byName = new LinkedHashMap<>();
    for (Slice slice : slices) {
      byName.put(TocEntry.cleanName(slice.entry().name()), slice);
    }
    Set<Slice> ordered = new LinkedHashSet<>();
    for (String path : options.prefetchFiles()) {
      if (byName.containsKey(path)) { // else another layer's file
        addWithPrerequisites(path, byName, ordered, 0);
      }
    }
    return List.copyOf(ordered);
  }

  private static void addWithPrerequisites(
      String path, Map<String, Slice> byName, Set<Slice> ordered, int depth) {
    Slice file = byName.get(path);
    if (file == null || ordered.contains(file) || depth > 64) {
      return;
    }
    Slice root = byName.get("");
    if (root != null) {
      ordered.add(root);
    }
    int slash = -1;
    while ((slash = path.indexOf('/', slash + 1)) >= 0) {
      Slice parent = byName.get(path.substring(0, slash));
      if (parent != null) {
        ordered.add(parent);
      }
    }
    if (file.entry().type() == TarEntryType.HARDLINK) {
      addWithPrerequisites(TocEntry.cleanName(file.entry().linkName()), byName, ordered, depth + 1);
    }
    ordered.add(file);
  }

  /** Copies slices into the output, one member per payload chunk, and records TOC entries. */
  private final class SliceCopier {
    private final FileChannel source;
    private final GzipMembers gz;
    private final List<TocEntry> toc;
    private final ByteBuffer buffer = ByteBuffer.allocate(COPY_BUFFER);

    SliceCopier(FileChannel source, GzipMembers gz, List<TocEntry> toc) {
      this.source = source;
      this.gz = gz;
      this.toc = toc;
    }

    void copy(Slice slice) throws IOException {
      TarEntry entry = slice.entry();
      copyRange(slice.sourceStart(), entry.uncompressedOffset(), null);
      if (entry.type() == TarEntryType.REGULAR && entry.size() > 0) {
        copyChunks(entry);
      } else {
        toc.add(TocEntries.of(entry, 0, null, null, 0, 0));
        copyRange(entry.uncompressedOffset(), slice.dataEnd(), null);
      }
      copyRange(slice.dataEnd(), slice.sourceEnd(), null);
    }

    private void copyChunks(TarEntry entry) throws IOException {
      MessageDigest fileHash = Digest.newSha256();
      List<TocEntry> chunks = new ArrayList<>();
      long chunkOffset = 0;
      while (chunkOffset < entry.size()) {
        long length = Math.min(options.chunkSize(), entry.size() - chunkOffset);
        gz.endMember();
        long compressedOffset = gz.compressedOffset();
        MessageDigest chunkHash = Digest.newSha256();
        long from = entry.uncompressedOffset() + chunkOffset;
        copyRange(from, from + length, new MessageDigest[] {chunkHash, fileHash});
        Digest chunkDigest = Digest.fromSha256(chunkHash.digest());
        // As the reference writer does: 0 ("to the end") for a file's last chunk.
        long chunkSize = length == entry.size() - chunkOffset ? 0 : length;
        chunks.add(
            chunkOffset == 0
                ? TocEntries.of(entry, compressedOffset, null, chunkDigest, 0, chunkSize)
                : TocEntries.chunk(entry, compressedOffset, chunkDigest, chunkOffset, chunkSize));
        chunkOffset += length;
      }
      Digest fileDigest = Digest.fromSha256(fileHash.digest());
      TocEntry first = chunks.getFirst();
      chunks.set(0, TocEntries.withDigest(first, fileDigest));
      toc.addAll(chunks);
    }

    private void copyRange(long from, long to, MessageDigest @Nullable [] hashes)
        throws IOException {
      long position = from;
      while (position < to) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), to - position));
        int n = source.read(buffer, position);
        if (n < 0) {
          throw new EstargzException("the source tar ended early at byte " + position);
        }
        if (hashes != null) {
          for (MessageDigest hash : hashes) {
            hash.update(buffer.array(), 0, n);
          }
        }
        gz.write(buffer.array(), 0, n);
        position += n;
      }
    }
  }

  private static void writeLandmark(GzipMembers gz, List<TocEntry> toc, String name)
      throws IOException {
    gz.write(TarHeaderBlock.regularFile(name, 1, 0644));
    gz.endMember();
    long compressedOffset = gz.compressedOffset();
    byte[] payload = new byte[TarHeaderBlock.BLOCK];
    payload[0] = LANDMARK_CONTENT;
    gz.write(payload, 0, 1);
    Digest digest = Digest.sha256(new byte[] {LANDMARK_CONTENT});
    toc.add(TocEntries.landmark(name, compressedOffset, digest));
    gz.write(payload, 1, TarHeaderBlock.BLOCK - 1);
  }

  /** The TOC member (its tar entry and the end-of-archive blocks) and the footer. */
  private static Digest writeToc(GzipMembers gz, Toc toc) throws IOException {
    byte[] json = toc.toJson();
    gz.endMember();
    long tocOffset = gz.compressedOffset();
    gz.write(TarHeaderBlock.regularFile(Toc.TAR_NAME, json.length, 0444));
    gz.write(json);
    gz.write(new byte[TarHeaderBlock.padding(json.length) + 2 * TarHeaderBlock.BLOCK]);
    gz.endMember();
    gz.writeRaw(Footer.encode(tocOffset));
    return Digest.sha256(json);
  }
}
