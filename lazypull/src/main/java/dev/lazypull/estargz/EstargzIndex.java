package dev.lazypull.estargz;

import dev.lazypull.oci.Digest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * A TOC checked and laid out for reading: every regular file's chunks located in the blob. Built
 * only from a TOC whose digest was verified (or whose check the user waived).
 */
public final class EstargzIndex {
  public static final String PREFETCH_LANDMARK = ".prefetch.landmark";
  public static final String NO_PREFETCH_LANDMARK = ".no.prefetch.landmark";

  /**
   * U+FFFD, what Go's encoding/json (the reference writer) writes for each byte of a name that is
   * not UTF-8. A name holding it is served as it stands, as the stargz snapshotter does; only a
   * repeated one is refused, since two different files may have collapsed into it.
   */
  private static final char REPLACEMENT = '\uFFFD';

  private final Toc toc;
  private final long tocOffset;
  private final Map<String, TocEntry> entries;
  private final Map<String, List<FileChunk>> chunks;
  private final long prefetchEnd;

  private EstargzIndex(
      Toc toc,
      long tocOffset,
      Map<String, TocEntry> entries,
      Map<String, List<FileChunk>> chunks,
      long prefetchEnd) {
    this.toc = toc;
    this.tocOffset = tocOffset;
    this.entries = entries;
    this.chunks = chunks;
    this.prefetchEnd = prefetchEnd;
  }

  /**
   * Lays out {@code toc}, found at blob offset {@code tocOffset}; refuses inconsistent TOCs and
   * chunks without a digest.
   */
  public static EstargzIndex of(Toc toc, long tocOffset) throws EstargzException {
    return of(toc, tocOffset, false);
  }

  /**
   * Lays out {@code toc}, found at blob offset {@code tocOffset}; refuses inconsistent TOCs.
   *
   * @param allowUndigestedChunks accept chunks that neither a {@code chunkDigest} nor (for a file
   *     in one chunk) the file's {@code digest} can check: only for an unverified TOC, whose legacy
   *     stargz writer recorded none; their {@link FileChunk#digest()} is null
   */
  public static EstargzIndex of(Toc toc, long tocOffset, boolean allowUndigestedChunks)
      throws EstargzException {
    TreeSet<Long> payloadOffsets = new TreeSet<>();
    for (TocEntry entry : toc.entries()) {
      if (entry.hasPayload()) {
        if (entry.offset() < 0 || entry.offset() >= tocOffset) {
          throw new EstargzException(
              "TOC entry "
                  + entry.name()
                  + " points at blob offset "
                  + entry.offset()
                  + ", outside the layer's data before the TOC at "
                  + tocOffset);
        }
        payloadOffsets.add(entry.offset());
      }
    }
    payloadOffsets.add(tocOffset);

    Map<String, TocEntry> entries = new LinkedHashMap<>();
    Map<String, List<FileChunk>> chunks = new HashMap<>();
    @Nullable TocEntry file = null;
    long prefetchEnd = -1;
    for (TocEntry entry : toc.entries()) {
      String name = entry.cleanName();
      if (entry.type().equals(TocEntry.CHUNK)) {
        if (file == null || !file.cleanName().equals(name)) {
          throw new EstargzException(
              "TOC chunk entry " + entry.name() + " does not follow its regular file entry");
        }
      } else {
        checkType(entry);
        if (entries.containsKey(name) && name.indexOf(REPLACEMENT) >= 0) {
          throw new EstargzException(
              "TOC names "
                  + name
                  + " twice, and its U+FFFD may stand for different bytes that were not UTF-8"
                  + " (the writer's JSON replaced them), so which file is meant is unknown;"
                  + " refusing to guess: use the image's gzip form with a SOCI index");
        }
        entries.put(name, entry);
        chunks.remove(name); // a later entry of the same name replaces the earlier one
        file = entry.type().equals(TocEntry.REG) ? entry : null;
        if (name.equals(PREFETCH_LANDMARK) && prefetchEnd < 0) {
          prefetchEnd = entry.offset();
        }
      }
      if (file != null && entry.hasPayload()) {
        addChunk(chunks, file, entry, payloadOffsets, allowUndigestedChunks);
      }
    }
    for (var fileEntry : entries.values()) {
      checkCovered(fileEntry, chunks.getOrDefault(fileEntry.cleanName(), List.of()));
    }
    return new EstargzIndex(toc, tocOffset, entries, chunks, prefetchEnd);
  }

  private static void checkType(TocEntry entry) throws EstargzException {
    switch (entry.type()) {
      case TocEntry.DIR,
          TocEntry.REG,
          TocEntry.SYMLINK,
          TocEntry.HARDLINK,
          TocEntry.CHAR,
          TocEntry.BLOCK,
          TocEntry.FIFO -> {}
      default ->
          throw new EstargzException(
              "TOC entry " + entry.name() + " has unknown type '" + entry.type() + "'");
    }
  }

  private static void addChunk(
      Map<String, List<FileChunk>> chunks,
      TocEntry file,
      TocEntry entry,
      TreeSet<Long> payloadOffsets,
      boolean allowUndigestedChunks)
      throws EstargzException {
    String name = file.cleanName();
    List<FileChunk> list = chunks.computeIfAbsent(name, n -> new ArrayList<>());
    long expectedStart = list.isEmpty() ? 0 : list.getLast().fileOffset() + list.getLast().size();
    long size = entry.chunkSize() != 0 ? entry.chunkSize() : file.size() - entry.chunkOffset();
    if (entry.chunkOffset() != expectedStart || size <= 0 || entry.innerOffset() < 0) {
      throw new EstargzException(
          "TOC chunk of "
              + entry.name()
              + " at file offset "
              + entry.chunkOffset()
              + " (size "
              + size
              + ") does not continue the file at "
              + expectedStart);
    }
    String chunkDigest = entry.chunkDigest();
    if (chunkDigest == null && entry.chunkOffset() == 0 && size == file.size()) {
      // Legacy stargz TOCs have no chunkDigest, but may have the file's digest: for a file in one
      // chunk it checks the chunk just as well.
      chunkDigest = file.digest();
    }
    if (chunkDigest == null && !allowUndigestedChunks) {
      throw new EstargzException(
          "TOC chunk of "
              + entry.name()
              + " at file offset "
              + entry.chunkOffset()
              + " has no chunkDigest, so its bytes cannot be verified");
    }
    @Nullable Digest digest;
    try {
      digest = chunkDigest == null ? null : Digest.parse(chunkDigest);
    } catch (IllegalArgumentException e) {
      throw new EstargzException("TOC chunk of " + entry.name() + ": " + e.getMessage(), e);
    }
    Long compressedEnd = payloadOffsets.higher(entry.offset());
    list.add(
        new FileChunk(
            name,
            list.size(),
            entry.chunkOffset(),
            size,
            entry.offset(),
            compressedEnd == null ? entry.offset() : compressedEnd,
            entry.innerOffset(),
            digest));
  }

  private static void checkCovered(TocEntry entry, List<FileChunk> fileChunks)
      throws EstargzException {
    long covered =
        fileChunks.isEmpty() ? 0 : fileChunks.getLast().fileOffset() + fileChunks.getLast().size();
    if (entry.type().equals(TocEntry.REG) && covered != entry.size()) {
      throw new EstargzException(
          "TOC entry "
              + entry.name()
              + " has "
              + entry.size()
              + " bytes but its chunks cover "
              + covered);
    }
  }

  public Toc toc() {
    return toc;
  }

  /** Blob offset of the TOC's gzip member. */
  public long tocOffset() {
    return tocOffset;
  }

  /** Non-chunk entries by clean name, in TOC order (the last of a repeated name wins). */
  public Map<String, TocEntry> entries() {
    return java.util.Collections.unmodifiableMap(entries);
  }

  /** The entry named {@code cleanName}, or null. */
  public @Nullable TocEntry entry(String cleanName) {
    return entries.get(cleanName);
  }

  /** The chunks of a regular file in file order; empty for an empty or unknown file. */
  public List<FileChunk> chunks(String cleanName) {
    return List.copyOf(chunks.getOrDefault(cleanName, List.of()));
  }

  /**
   * Blob offset of the {@code .prefetch.landmark} payload: the start-up files lie in {@code [0,
   * prefetchEnd)}. -1 when the layer has no prefetch landmark.
   */
  public long prefetchEnd() {
    return prefetchEnd;
  }

  /** Whether {@code cleanName} is one of the format's own entries: the TOC or a landmark. */
  public static boolean isFormatEntry(String cleanName) {
    return cleanName.equals(Toc.TAR_NAME)
        || cleanName.equals(PREFETCH_LANDMARK)
        || cleanName.equals(NO_PREFETCH_LANDMARK);
  }
}
