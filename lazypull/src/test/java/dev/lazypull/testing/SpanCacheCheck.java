package dev.lazypull.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.fs.cache.SpanCache;
import dev.lazypull.fs.cache.SpanKey;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Checks of a span cache directory that mounts have used. */
public final class SpanCacheCheck {
  private SpanCacheCheck() {}

  /**
   * Opens the cache as a new mount would and reads every span in it: none may be damaged, and no
   * temporary file may be left.
   */
  public static void assertEverySpanWholeAndNoTemporaryFiles(Path spans) throws Exception {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(spans)) {
      files = walk.filter(Files::isRegularFile).toList();
    }
    assertThat(files).isNotEmpty();
    assertThat(files).noneMatch(p -> p.getFileName().toString().endsWith(".tmp"));
    try (SpanCache cache = SpanCache.open(spans, Long.MAX_VALUE)) {
      for (Path file : files) {
        var key =
            new SpanKey(
                file.getParent().getFileName().toString(),
                Integer.parseInt(file.getFileName().toString()));
        assertThat(cache.read(key, 0, ByteBuffer.allocate(1))).as(file.toString()).isEqualTo(1);
      }
      assertThat(cache.damagedSpans()).isZero();
    }
  }
}
