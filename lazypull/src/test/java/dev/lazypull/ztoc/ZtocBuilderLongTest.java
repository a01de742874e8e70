package dev.lazypull.ztoc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.testing.TestLayers;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/** The round trip at the default 4 MiB span size on a ~300 MB layer (scripts/test.sh --long). */
@EnabledIfSystemProperty(named = "lazypull.long", matches = "true")
class ZtocBuilderLongTest {

  @Test
  void build_largeLayerAtDefaultSpanSize_everyFileExtracts() throws Exception {
    var builder = TestLayers.tar();
    for (int i = 0; i < 60; i++) {
      builder.file("big/text-" + i, TestLayers.textBytes(i, 3_000_000 + i * 1000));
      builder.file("big/random-" + i, TestLayers.randomBytes(i, 2_000_000 + i * 77));
    }
    byte[] tar = builder.build().bytes();
    byte[] layer = TestLayers.gzip(tar, Deflater.BEST_SPEED);

    Ztoc ztoc =
        new ZtocBuilder(ZtocBuilder.DEFAULT_SPAN_SIZE, "lazypull test")
            .build(new ByteArrayInputStream(layer), "long-layer");

    assertThat(ztoc.spanCount()).isGreaterThan(60);
    var extractor = new SpanExtractor(ztoc, new ByteArrayRangeSource(layer), "long-layer");
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
