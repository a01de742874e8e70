package dev.lazypull.ztoc;

import dev.lazypull.tar.TarEntry;
import dev.lazypull.tar.TarFormatException;
import dev.lazypull.tar.TarReader;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a zTOC in one streaming pass over a gzip or uncompressed tar layer: the tar TOC,
 * checkpoints every span and each span's digest. Memory does not grow with the layer beyond one 32
 * KiB window per checkpoint and the TOC.
 */
public final class ZtocBuilder {

  /** SOCI's default span size: 4 MiB of uncompressed data. */
  public static final long DEFAULT_SPAN_SIZE = 4L << 20;

  private static final Logger log = LoggerFactory.getLogger(ZtocBuilder.class);

  private final long spanSize;
  private final String buildToolIdentifier;

  /**
   * @param buildToolIdentifier written into the zTOC, e.g. "lazypull 0.1.0"
   */
  public ZtocBuilder(long spanSize, String buildToolIdentifier) {
    if (spanSize <= 0) {
      throw new IllegalArgumentException("span size must be positive, got " + spanSize);
    }
    this.spanSize = spanSize;
    this.buildToolIdentifier = buildToolIdentifier;
  }

  /** Builds the zTOC of the layer file at {@code layer}. */
  public Ztoc build(Path layer) throws IOException {
    try (InputStream in = Files.newInputStream(layer)) {
      return build(in, layer.toString());
    }
  }

  /**
   * Builds the zTOC of the layer read from {@code layer} (read to its end, not closed). {@code
   * what} names the layer in error messages.
   *
   * @throws UnindexableLayerException for layers that are valid but cannot be indexed (sparse
   *     files, zstd): fetch those whole
   * @throws ZtocException for corrupt, truncated or unknown input
   */
  public Ztoc build(InputStream layer, String what) throws IOException {
    BufferedInputStream in = new BufferedInputStream(layer, 1 << 16);
    return switch (LayerFormat.detect(in, what)) {
      case GZIP -> buildGzip(in, what);
      case TAR -> buildTar(in, what);
    };
  }

  private Ztoc buildGzip(InputStream in, String what) throws IOException {
    try (GzipIndexingStream stream = new GzipIndexingStream(in, spanSize)) {
      List<FileMetadata> files = readToc(stream, what);
      stream.drain();
      GzipCheckpoints checkpoints = stream.checkpoints();
      log.debug(
          "indexed gzip layer {}: {} members, {} spans, {} files",
          what,
          stream.members(),
          checkpoints.spanCount(),
          files.size());
      var info = new CompressionInfo(CompressionAlgorithm.GZIP, stream.spanDigests(), checkpoints);
      return new Ztoc(
          Ztoc.VERSION,
          buildToolIdentifier,
          stream.compressedSize(),
          stream.uncompressedSize(),
          files,
          info);
    } catch (ZtocException e) {
      throw withLayer(e, what);
    }
  }

  private Ztoc buildTar(InputStream in, String what) throws IOException {
    TarSpanHashingStream stream = new TarSpanHashingStream(in, spanSize);
    List<FileMetadata> files = readToc(stream, what);
    stream.drain();
    var layout = new TarZinfo(TarZinfo.CURRENT_VERSION, spanSize, stream.size());
    var info = new CompressionInfo(CompressionAlgorithm.UNCOMPRESSED, stream.spanDigests(), layout);
    return new Ztoc(Ztoc.VERSION, buildToolIdentifier, stream.size(), stream.size(), files, info);
  }

  private static ZtocException withLayer(ZtocException e, String what) {
    if (e instanceof UnindexableLayerException) {
      return e;
    }
    return new ZtocException("indexing layer " + what + ": " + e.getMessage(), e);
  }

  private static List<FileMetadata> readToc(InputStream uncompressed, String what)
      throws IOException {
    TarReader reader = new TarReader(uncompressed);
    List<FileMetadata> files = new ArrayList<>();
    try {
      for (TarEntry entry = reader.next(); entry != null; entry = reader.next()) {
        if (entry.sparse()) {
          throw new UnindexableLayerException(
              "layer "
                  + what
                  + " holds sparse file '"
                  + entry.name()
                  + "' (GNU sparse"
                  + " format), which a zTOC cannot describe; fetch the layer whole");
        }
        checkComponentLengths(entry, what);
        files.add(toFileMetadata(entry));
      }
    } catch (TarFormatException e) {
      throw new ZtocException("reading the tar stream of layer " + what + ": " + e.getMessage(), e);
    }
    return files;
  }

  /** Linux's NAME_MAX: no filesystem, so no container, can hold a longer path component. */
  static final int MAX_COMPONENT_LENGTH = 255;

  private static void checkComponentLengths(TarEntry entry, String what) throws ZtocException {
    byte[] name = entry.rawName();
    int start = 0;
    for (int i = 0; i <= name.length; i++) {
      if (i == name.length || name[i] == '/') {
        if (i - start > MAX_COMPONENT_LENGTH) {
          throw new ZtocException(
              "reading the tar stream of layer "
                  + what
                  + ": entry '"
                  + entry.name()
                  + "' has a path component of "
                  + (i - start)
                  + " bytes; Linux allows at most "
                  + MAX_COMPONENT_LENGTH
                  + ", so no unpacker can create it: rebuild the layer with shorter names");
        }
        start = i + 1;
      }
    }
  }

  static FileMetadata toFileMetadata(TarEntry entry) {
    List<Xattr> xattrs = new ArrayList<>();
    for (Map.Entry<String, byte[]> record : entry.paxRecords().entrySet()) {
      xattrs.add(new Xattr(record.getKey(), record.getValue()));
    }
    return new FileMetadata(
        entry.rawName(),
        entry.type(),
        entry.uncompressedOffset(),
        entry.size(),
        entry.rawLinkName(),
        entry.mode(),
        entry.uid(),
        entry.gid(),
        entry.uname(),
        entry.gname(),
        ModTimes.format(entry.modTime()),
        entry.devMajor(),
        entry.devMinor(),
        xattrs);
  }
}
