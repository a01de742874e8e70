package dev.lazypull.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lazypull.oci.Digest;
import dev.lazypull.tar.TarEntry;
import dev.lazypull.tar.TarEntryType;
import dev.lazypull.tar.TarReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes legacy stargz layers (the format before eStargz) from a tar, for tests: a new gzip member
 * at each chunk of each regular file's data, the TOC {@code stargz.index.json} as a tar entry in a
 * member of its own, and the 47-byte footer, an empty gzip member whose FEXTRA field is the bare
 * {@code %016xSTARGZ} payload (no subfield id). The TOC has no {@code chunkDigest} and no
 * landmarks, and a file {@code digest} only when asked for, as older writers left them out.
 */
public final class LegacyStargz {
  private static final DateTimeFormatter RFC_3339 =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private LegacyStargz() {}

  /** A legacy stargz layer, its TOC JSON and the offsets where the TOC and the footer start. */
  public record Layer(byte[] blob, byte[] tocJson, long tocOffset) {
    public Digest digest() {
      return Digest.sha256(blob);
    }
  }

  /**
   * @param tar a tar stream without the end-of-archive blocks ({@code withoutEndMarker()})
   * @param chunkSize files larger than this are split into chunks of this size
   * @param fileDigests whether regular files carry their sha256 as {@code digest}
   */
  public static Layer of(byte[] tar, int chunkSize, boolean fileDigests) {
    try {
      List<TarEntry> entries = entries(tar);
      List<Long> cuts = new ArrayList<>();
      for (TarEntry entry : entries) {
        if (entry.type() == TarEntryType.REGULAR) {
          for (long at = 0; at < entry.size(); at += chunkSize) {
            cuts.add(entry.uncompressedOffset() + at);
          }
        }
      }
      var out = new ByteArrayOutputStream();
      List<Long> memberOffsets = new ArrayList<>();
      long start = 0;
      for (int i = 0; i <= cuts.size(); i++) {
        long end = i < cuts.size() ? cuts.get(i) : tar.length;
        if (end > start || i == 0) {
          out.writeBytes(TestLayers.gzip(Arrays.copyOfRange(tar, (int) start, (int) end)));
        }
        if (i < cuts.size()) {
          memberOffsets.add((long) out.size());
        }
        start = end;
      }
      byte[] json = toc(tar, entries, cuts, memberOffsets, chunkSize, fileDigests);
      long tocOffset = out.size();
      out.writeBytes(
          TestLayers.gzip(TestLayers.tar().file("stargz.index.json", json).build().bytes()));
      out.writeBytes(footer(tocOffset));
      return new Layer(out.toByteArray(), json, tocOffset);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The 47-byte legacy footer: gzip header, XLEN 22, the bare payload, an empty stored block. */
  public static byte[] footer(long tocOffset) {
    var footer = new ByteArrayOutputStream();
    footer.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 4, 0, 0, 0, 0, 0, (byte) 0xff, 22, 0});
    footer.writeBytes(
        (String.format("%016x", tocOffset) + "STARGZ").getBytes(StandardCharsets.US_ASCII));
    footer.writeBytes(new byte[] {1, 0, 0, (byte) 0xff, (byte) 0xff}); // final empty stored block
    footer.writeBytes(new byte[8]); // CRC32 and ISIZE of nothing
    return footer.toByteArray();
  }

  private static List<TarEntry> entries(byte[] tar) throws IOException {
    var reader = new TarReader(new ByteArrayInputStream(tar));
    List<TarEntry> entries = new ArrayList<>();
    for (TarEntry entry = reader.next(); entry != null; entry = reader.next()) {
      entries.add(entry);
    }
    return entries;
  }

  private static byte[] toc(
      byte[] tar,
      List<TarEntry> entries,
      List<Long> cuts,
      List<Long> memberOffsets,
      int chunkSize,
      boolean fileDigests)
      throws IOException {
    var mapper = new ObjectMapper();
    ObjectNode root = mapper.createObjectNode().put("version", 1);
    ArrayNode list = root.putArray("entries");
    for (TarEntry entry : entries) {
      ObjectNode node =
          list.addObject()
              .put("name", entry.name())
              .put("type", entry.type().ztocName())
              .put("modtime", RFC_3339.format(entry.modTime()))
              .put("mode", entry.mode())
              .put("uid", entry.uid())
              .put("gid", entry.gid());
      if (!entry.linkName().isEmpty()) {
        node.put("linkName", entry.linkName());
      }
      if (entry.type() == TarEntryType.CHAR_DEVICE || entry.type() == TarEntryType.BLOCK_DEVICE) {
        node.put("devMajor", entry.devMajor()).put("devMinor", entry.devMinor());
      }
      if (entry.type() != TarEntryType.REGULAR) {
        continue;
      }
      node.put("size", entry.size());
      if (fileDigests) {
        byte[] data =
            Arrays.copyOfRange(
                tar,
                (int) entry.uncompressedOffset(),
                (int) (entry.uncompressedOffset() + entry.size()));
        node.put("digest", Digest.sha256(data).toString());
      }
      for (long at = 0; at < entry.size(); at += chunkSize) {
        long offset = memberOffsets.get(cuts.indexOf(entry.uncompressedOffset() + at));
        ObjectNode chunk =
            at == 0 ? node : list.addObject().put("name", entry.name()).put("type", "chunk");
        chunk.put("offset", offset).put("chunkOffset", at);
        if (entry.size() > chunkSize) {
          chunk.put("chunkSize", Math.min(chunkSize, entry.size() - at));
        }
      }
    }
    return mapper.writeValueAsBytes(root);
  }
}
