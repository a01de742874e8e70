package dev.lazypull.fs.layer;

import dev.lazypull.estargz.ChunkDecoder;
import dev.lazypull.estargz.EstargzException;
import dev.lazypull.estargz.EstargzReader;
import dev.lazypull.estargz.FileChunk;
import dev.lazypull.oci.Digest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background fetch of an eStargz layer whose TOC was opened unverified (no {@code toc.digest}
 * annotation, insecure-skip-verify): the whole blob, in blob order, hashed against the layer's
 * digest from the manifest. Ranged answers prove nothing about the blob, so until then the TOC, and
 * every chunk it has no digest for (legacy stargz), may be anything the registry chose to serve.
 * Once the blob's digest matches, its own footer and TOC must be the ones opened, and every chunk
 * that was cached or served must equal the blob's bytes; otherwise the layer is marked bad and its
 * reads fail with EIO. On the way, missing chunks are cached from the blob's bytes.
 */
final class UnverifiedTocCheck {
  private static final Logger log = LoggerFactory.getLogger(UnverifiedTocCheck.class);

  /** Compressed bytes per ranged GET at most, or one chunk when it is larger. */
  private static final long RUN_BYTES = 1L << 20;

  private UnverifiedTocCheck() {}

  /**
   * @return true if the blob matches its digest, its TOC is the one opened and no chunk served
   *     differs from it; false if the layer was marked bad
   * @throws IOException when the blob could not be fetched (nothing is decided then)
   */
  static boolean run(EstargzLayer layer, BackgroundPacer pacer)
      throws IOException, InterruptedException {
    EstargzReader reader = layer.reader();
    List<FileChunk> chunks = layer.chunkList();
    List<Integer> order = new ArrayList<>();
    for (int id = 0; id < chunks.size(); id++) {
      order.add(id);
    }
    order.sort(Comparator.comparingLong(id -> chunks.get(id).compressedOffset()));
    long blobSize = reader.blobSize();
    long tocOffset = reader.index().tocOffset();
    MessageDigest blobHash = Digest.newSha256();
    var tocArea = new ByteArrayOutputStream();
    @Nullable Digest[] own = new Digest[chunks.size()];
    List<String> problems = new ArrayList<>();

    long runStart = 0;
    int next = 0;
    while (runStart < blobSize) {
      layer.awaitBackgroundTurn(pacer);
      long runEnd = runStart;
      int last = next;
      while (last < order.size()) {
        long end = Math.max(runEnd, chunks.get(order.get(last)).compressedEnd());
        // Chunks sharing a member stay in one run; a run holds one chunk at least.
        if (last > next && end > runEnd && end - runStart > RUN_BYTES) {
          break;
        }
        runEnd = end;
        last++;
      }
      if (runEnd <= runStart) {
        runEnd = Math.min(blobSize, runStart + RUN_BYTES); // the TOC and the footer
      }
      byte[] run = layer.fetchRange(runStart, runEnd, pacer);
      blobHash.update(run);
      if (runEnd > tocOffset) {
        int from = (int) Math.max(0, tocOffset - runStart);
        tocArea.write(run, from, run.length - from);
      }
      for (int i = next; i < last; i++) {
        int id = order.get(i);
        own[id] = check(layer, id, chunks.get(id), run, runStart, problems);
      }
      runStart = runEnd;
      next = last;
    }

    Digest blobDigest = Digest.fromSha256(blobHash.digest());
    String layerDigest = layer.describe();
    if (!blobDigest.toString().equals(layerDigest)) {
      layer.markBad(
          "its blob hashes to "
              + blobDigest
              + ", not to the layer digest "
              + layerDigest
              + ", so the TOC it was mounted with unverified (insecure-skip-verify) cannot be"
              + " trusted");
      return false;
    }
    String tocProblem = reader.tocMismatch(tocArea.toByteArray());
    if (tocProblem != null) {
      layer.markBad(
          "the TOC it was mounted with unverified (insecure-skip-verify) is not the layer's own: "
              + tocProblem);
      return false;
    }
    if (!problems.isEmpty()) {
      layer.markBad(
          "it served bytes other than the layer's own through its unverified TOC: "
              + problems.getFirst()
              + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more chunks)" : ""));
      return false;
    }
    layer.trustToc(own);
    log.info(
        "layer {}: the whole blob matches its digest, and so does the TOC it was mounted with"
            + " unverified; every chunk served was the layer's own",
        layerDigest);
    return true;
  }

  /** The chunk's own digest from the blob's bytes; a difference is added to {@code problems}. */
  private static @Nullable Digest check(
      EstargzLayer layer, int id, FileChunk chunk, byte[] run, long runStart, List<String> problems)
      throws InterruptedException {
    if (chunk.compressedOffset() < runStart) {
      problems.add(chunk.describe() + " overlaps the chunk before it in the blob");
      return null;
    }
    byte[] data;
    try {
      data =
          ChunkDecoder.inflate(
              chunk,
              run,
              (int) (chunk.compressedOffset() - runStart),
              (int) chunk.compressedLength(),
              layer.describe());
    } catch (EstargzException e) {
      problems.add(e.getMessage());
      return null;
    }
    Digest digest = Digest.sha256(data);
    if (chunk.digest() != null && !digest.equals(chunk.digest())) {
      problems.add(
          chunk.describe()
              + ": the TOC's chunkDigest is "
              + chunk.digest()
              + " but the layer's own bytes hash to "
              + digest);
      return digest;
    }
    String differs = layer.settleFromBlob(id, data);
    if (differs != null) {
      problems.add(differs);
    }
    return digest;
  }
}
