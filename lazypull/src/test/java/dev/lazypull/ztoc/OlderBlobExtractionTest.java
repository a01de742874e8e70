package dev.lazypull.ztoc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * zTOCs whose checkpoints blob leaves out checkpoint 0 (older SOCI): SOCI rebuilds it at compressed
 * offset 10 and hashes span 0 from there, also for layers with longer gzip headers.
 */
class OlderBlobExtractionTest {

  /** The zTOC SOCI's older builder writes for {@code layer}: blob without checkpoint 0. */
  private static Ztoc olderSociZtoc(byte[] layer) throws Exception {
    Ztoc current =
        new ZtocBuilder(1 << 20, "lazypull test").build(new ByteArrayInputStream(layer), "layer");
    byte[] full = current.compressionInfo().layout().encode();
    byte[] older = new byte[full.length - GzipCheckpoints.ENTRY_SIZE];
    System.arraycopy(full, 0, older, 0, GzipCheckpoints.HEADER_SIZE);
    System.arraycopy(
        full,
        GzipCheckpoints.HEADER_SIZE + GzipCheckpoints.ENTRY_SIZE,
        older,
        GzipCheckpoints.HEADER_SIZE,
        older.length - GzipCheckpoints.HEADER_SIZE);
    GzipCheckpoints layout = GzipCheckpoints.decode(older);
    var digests = new ArrayList<>(current.compressionInfo().spanDigests());
    // SOCI's span 0 then starts at the assumed offset 10, whatever the header's length.
    byte[] span0 = Arrays.copyOfRange(layer, 10, (int) current.span(0).compressedEnd());
    digests.set(0, Digest.fromSha256(MessageDigest.getInstance("SHA-256").digest(span0)));
    var info = new CompressionInfo(CompressionAlgorithm.GZIP, digests, layout);
    byte[] encoded =
        ZtocCodec.encode(
            new Ztoc(
                current.version(),
                current.buildToolIdentifier(),
                current.compressedArchiveSize(),
                current.uncompressedArchiveSize(),
                current.files(),
                info));
    return ZtocCodec.decode(encoded, "older");
  }

  @ParameterizedTest
  @ValueSource(strings = {"small-text", "fname-header", "fextra-header"})
  void extract_blobWithoutCheckpointZero_readsSpanZeroPastTheRealHeader(String vector)
      throws Exception {
    byte[] layer = ReferenceVectors.layer(vector);
    byte[] tar;
    try (var in = new GZIPInputStream(new ByteArrayInputStream(layer))) {
      tar = in.readAllBytes();
    }
    Ztoc ztoc = olderSociZtoc(layer);
    var extractor = new SpanExtractor(ztoc, new ByteArrayRangeSource(layer), vector);

    assertThat(((GzipCheckpoints) ztoc.compressionInfo().layout()).firstCheckpointRebuilt())
        .isTrue();
    for (FileMetadata file : ztoc.files()) {
      var out = new ByteArrayOutputStream();
      extractor.extractFile(file, out);
      assertThat(out.toByteArray())
          .as(file.name())
          .isEqualTo(
              Arrays.copyOfRange(
                  tar, (int) file.uncompressedOffset(), (int) file.uncompressedEnd()));
    }
  }
}
