package dev.lazypull.ztoc;

import com.google.flatbuffers.FlatBufferBuilder;
import dev.lazypull.oci.Digest;
import dev.lazypull.tar.TarEntryType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes zTOCs as FlatBuffers with the SOCI schema's field ids. Written fields that hold
 * their schema default are left out, as FlatBuffers builders do.
 */
public final class ZtocCodec {

  // Field ids, in schema order (they are the wire format).
  private static final int XATTR_KEY = 0;
  private static final int XATTR_VALUE = 1;

  private static final int FM_NAME = 0;
  private static final int FM_TYPE = 1;
  private static final int FM_OFFSET = 2;
  private static final int FM_SIZE = 3;
  private static final int FM_LINKNAME = 4;
  private static final int FM_MODE = 5;
  private static final int FM_UID = 6;
  private static final int FM_GID = 7;
  private static final int FM_UNAME = 8;
  private static final int FM_GNAME = 9;
  private static final int FM_MOD_TIME = 10;
  private static final int FM_DEVMAJOR = 11;
  private static final int FM_DEVMINOR = 12;
  private static final int FM_XATTRS = 13;
  private static final int FM_FIELDS = 14;

  private static final int CI_ALGORITHM = 0;
  private static final int CI_MAX_SPAN_ID = 1;
  private static final int CI_SPAN_DIGESTS = 2;
  private static final int CI_CHECKPOINTS = 3;

  private static final int TOC_METADATA = 0;

  private static final int Z_VERSION = 0;
  private static final int Z_BUILD_TOOL = 1;
  private static final int Z_COMPRESSED_SIZE = 2;
  private static final int Z_UNCOMPRESSED_SIZE = 3;
  private static final int Z_TOC = 4;
  private static final int Z_COMPRESSION_INFO = 5;

  private ZtocCodec() {}

  /** The zTOC as a FlatBuffer (no file identifier). */
  public static byte[] encode(Ztoc ztoc) {
    ByteBuffer buffer = encodeToBuffer(ztoc);
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }

  /** Writes the zTOC's FlatBuffer to {@code out} without another copy of it in memory. */
  public static void write(Ztoc ztoc, WritableByteChannel out) throws IOException {
    ByteBuffer buffer = encodeToBuffer(ztoc);
    while (buffer.hasRemaining()) {
      out.write(buffer);
    }
  }

  private static ByteBuffer encodeToBuffer(Ztoc ztoc) {
    // Sized up front: growing a FlatBufferBuilder copies everything written so far.
    long estimate =
        ztoc.compressionInfo().layout().encodedSize()
            + ztoc.spanCount() * 96L
            + ztoc.files().size() * 320L
            + 4096;
    FlatBufferBuilder b = new FlatBufferBuilder((int) Math.min(estimate, Integer.MAX_VALUE - 8));
    int toc = writeToc(b, ztoc.files());
    int compression = writeCompressionInfo(b, ztoc.compressionInfo());
    int version = b.createString(ztoc.version());
    int buildTool = b.createString(ztoc.buildToolIdentifier());
    b.startTable(6);
    b.addLong(Z_UNCOMPRESSED_SIZE, ztoc.uncompressedArchiveSize(), 0);
    b.addLong(Z_COMPRESSED_SIZE, ztoc.compressedArchiveSize(), 0);
    b.addOffset(Z_COMPRESSION_INFO, compression, 0);
    b.addOffset(Z_TOC, toc, 0);
    b.addOffset(Z_BUILD_TOOL, buildTool, 0);
    b.addOffset(Z_VERSION, version, 0);
    b.finish(b.endTable());
    return b.dataBuffer();
  }

  private static int writeToc(FlatBufferBuilder b, List<FileMetadata> files) {
    var strings = new SharedStrings(b);
    int[] entries = new int[files.size()];
    for (int i = 0; i < entries.length; i++) {
      entries[i] = writeFile(b, strings, files.get(i));
    }
    int metadata = b.createVectorOfTables(entries);
    b.startTable(1);
    b.addOffset(TOC_METADATA, metadata, 0);
    return b.endTable();
  }

  private static int writeFile(FlatBufferBuilder b, SharedStrings strings, FileMetadata f) {
    int[] xattrs = new int[f.xattrs().size()];
    for (int i = 0; i < xattrs.length; i++) {
      Xattr x = f.xattrs().get(i);
      int key = strings.text(x.key());
      int value = strings.bytes(x.value());
      b.startTable(2);
      b.addOffset(XATTR_VALUE, value, 0);
      b.addOffset(XATTR_KEY, key, 0);
      xattrs[i] = b.endTable();
    }
    int xattrVector = strings.tableVector(xattrs);
    // Names are unique within a layer: sharing them would only cost a lookup.
    int name = b.createString(ByteBuffer.wrap(f.nameBytes()));
    int type = strings.text(f.type().ztocName());
    int linkName = strings.bytes(f.linkNameBytes());
    int uname = strings.text(f.uname());
    int gname = strings.text(f.gname());
    int modTime = strings.text(f.modTime());
    b.startTable(FM_FIELDS);
    b.addLong(FM_OFFSET, f.uncompressedOffset(), 0);
    b.addLong(FM_SIZE, f.uncompressedSize(), 0);
    b.addLong(FM_MODE, f.mode(), 0);
    b.addLong(FM_DEVMAJOR, f.devMajor(), 0);
    b.addLong(FM_DEVMINOR, f.devMinor(), 0);
    b.addOffset(FM_NAME, name, 0);
    b.addOffset(FM_TYPE, type, 0);
    b.addOffset(FM_LINKNAME, linkName, 0);
    b.addInt(FM_UID, (int) f.uid(), 0);
    b.addInt(FM_GID, (int) f.gid(), 0);
    b.addOffset(FM_UNAME, uname, 0);
    b.addOffset(FM_GNAME, gname, 0);
    b.addOffset(FM_MOD_TIME, modTime, 0);
    b.addOffset(FM_XATTRS, xattrVector, 0);
    return b.endTable();
  }

  private static int writeCompressionInfo(FlatBufferBuilder b, CompressionInfo info) {
    int[] digests = new int[info.spanDigests().size()];
    for (int i = 0; i < digests.length; i++) {
      digests[i] = b.createString(info.spanDigests().get(i).toString());
    }
    int digestVector = b.createVectorOfTables(digests);
    SpanLayout layout = info.layout();
    layout.writeTo(
        b.createUnintializedVector(1, layout.encodedSize(), 1).order(ByteOrder.LITTLE_ENDIAN));
    int checkpoints = b.endVector();
    b.startTable(4);
    b.addOffset(CI_CHECKPOINTS, checkpoints, 0);
    b.addOffset(CI_SPAN_DIGESTS, digestVector, 0);
    b.addInt(CI_MAX_SPAN_ID, info.maxSpanId(), 0);
    b.addByte(CI_ALGORITHM, info.algorithm().wireValue(), CompressionAlgorithm.GZIP.wireValue());
    return b.endTable();
  }

  /**
   * Decodes and validates a zTOC; {@link ZtocException} says what is wrong. {@code what} names the
   * zTOC in messages (a file name or digest).
   */
  public static Ztoc decode(byte[] bytes, String what) throws ZtocException {
    Ztoc ztoc;
    try {
      ztoc = read(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
    } catch (ZtocException e) {
      throw new ZtocException("reading zTOC " + what + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new ZtocException(
          "reading zTOC " + what + ": not a valid zTOC FlatBuffer (" + e + ")", e);
    }
    ZtocValidator.validate(ztoc, what);
    return ztoc;
  }

  private static Ztoc read(ByteBuffer bb) throws ZtocException {
    if (bb.remaining() < 8) {
      throw new ZtocException(bb.remaining() + " bytes is too short for a zTOC");
    }
    FlatTable root = FlatTable.root(bb);
    FlatTable toc = root.getTable(Z_TOC);
    FlatTable info = root.getTable(Z_COMPRESSION_INFO);
    if (toc == null || info == null) {
      throw new ZtocException("the zTOC has no " + (toc == null ? "toc" : "compression_info"));
    }
    return new Ztoc(
        root.getString(Z_VERSION),
        root.getString(Z_BUILD_TOOL),
        root.getLong(Z_COMPRESSED_SIZE, 0),
        root.getLong(Z_UNCOMPRESSED_SIZE, 0),
        readFiles(toc),
        readCompressionInfo(info));
  }

  private static List<FileMetadata> readFiles(FlatTable toc) throws ZtocException {
    int count = toc.vectorLength(TOC_METADATA);
    List<FileMetadata> files = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      FlatTable f = toc.vectorTable(TOC_METADATA, i);
      byte[] name = f.getStringBytes(FM_NAME);
      TarEntryType type;
      try {
        type = TarEntryType.fromZtocName(f.getString(FM_TYPE));
      } catch (IllegalArgumentException e) {
        throw new ZtocException("entry '" + ByteText.textOrHex(name) + "': " + e.getMessage());
      }
      files.add(
          new FileMetadata(
              name,
              type,
              f.getLong(FM_OFFSET, 0),
              f.getLong(FM_SIZE, 0),
              f.getStringBytes(FM_LINKNAME),
              f.getLong(FM_MODE, 0),
              f.getUnsignedInt(FM_UID),
              f.getUnsignedInt(FM_GID),
              f.getString(FM_UNAME),
              f.getString(FM_GNAME),
              f.getString(FM_MOD_TIME),
              f.getLong(FM_DEVMAJOR, 0),
              f.getLong(FM_DEVMINOR, 0),
              readXattrs(f)));
    }
    return files;
  }

  private static List<Xattr> readXattrs(FlatTable f) {
    int count = f.vectorLength(FM_XATTRS);
    List<Xattr> xattrs = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      FlatTable x = f.vectorTable(FM_XATTRS, i);
      xattrs.add(new Xattr(x.getString(XATTR_KEY), x.getStringBytes(XATTR_VALUE)));
    }
    return xattrs;
  }

  private static CompressionInfo readCompressionInfo(FlatTable info) throws ZtocException {
    CompressionAlgorithm algorithm =
        CompressionAlgorithm.fromWire(
            info.getByte(CI_ALGORITHM, CompressionAlgorithm.GZIP.wireValue()));
    int maxSpanId = info.getInt(CI_MAX_SPAN_ID, 0);
    int count = info.vectorLength(CI_SPAN_DIGESTS);
    if (count != maxSpanId + 1) {
      throw new ZtocException(
          "max_span_id is " + maxSpanId + " but there are " + count + " span digests");
    }
    List<Digest> digests = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String text = info.vectorString(CI_SPAN_DIGESTS, i);
      try {
        digests.add(Digest.parse(text));
      } catch (IllegalArgumentException e) {
        throw new ZtocException("span " + i + " digest: " + e.getMessage());
      }
    }
    // Gzip windows go straight from the zTOC's bytes off the heap: a copy of them on the heap
    // would double a big zTOC's transient footprint.
    SpanLayout layout =
        algorithm == CompressionAlgorithm.GZIP
            ? GzipCheckpoints.decode(info.vectorView(CI_CHECKPOINTS))
            : TarZinfo.decode(info.vectorBytes(CI_CHECKPOINTS));
    return new CompressionInfo(algorithm, digests, layout);
  }
}
