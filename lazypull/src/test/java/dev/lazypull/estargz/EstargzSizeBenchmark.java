package dev.lazypull.estargz;

import dev.lazypull.testing.DebianImages;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Size and conversion time of eStargz against plain gzip for a real layer (default: the Debian
 * minbase layer), each printed with its ratio to one-member gzip -6 of the same tar, measured in
 * the same run. Run by bench/estargz-size.sh. With a second argument, the eStargz blobs are kept in
 * that directory with their TOC digests in {@code toc-digests.txt}, for outside checkers.
 */
public final class EstargzSizeBenchmark {
  private EstargzSizeBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path layer = args.length > 0 && !args[0].isEmpty() ? Path.of(args[0]) : minbaseLayer();
    Path keep = args.length > 1 ? Files.createDirectories(Path.of(args[1])) : null;
    Path work = Files.createTempDirectory("estargz-size-");
    try {
      Path tar = work.resolve("layer.tar");
      try (InputStream in =
          new GZIPInputStream(new BufferedInputStream(Files.newInputStream(layer)), 1 << 16)) {
        Files.copy(in, tar);
      }
      System.out.printf(
          "layer %s: %d bytes gzip, %d bytes tar%n", layer, Files.size(layer), Files.size(tar));
      long start = System.nanoTime();
      long gzipSize = gzip(tar, work.resolve("plain.gz"), 6);
      double gzipSeconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "baseline gzip -6, one member: %,d bytes in %.2f s%n", gzipSize, gzipSeconds);
      for (int level : new int[] {6, 9}) {
        for (long chunk : new long[] {4L << 20, 1L << 20}) {
          Path out = work.resolve("l" + level + "-c" + chunk + ".esgz");
          start = System.nanoTime();
          EstargzWriter.Result result;
          try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(out), 1 << 16)) {
            result =
                new EstargzWriter(new EstargzWriter.Options(chunk, List.of(), level)).write(tar, o);
          }
          double seconds = (System.nanoTime() - start) / 1e9;
          System.out.printf(
              "eStargz level %d, %d MiB chunks: %,d bytes (%.3fx gzip -6) in %.2f s (%.2fx)%n",
              level,
              chunk >> 20,
              result.size(),
              (double) result.size() / gzipSize,
              seconds,
              seconds / gzipSeconds);
          if (keep != null) {
            Path kept = keep.resolve(out.getFileName());
            Files.copy(out, kept);
            Files.writeString(
                keep.resolve("toc-digests.txt"),
                kept + " " + result.tocDigest() + "\n",
                java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
          }
          Files.delete(out);
        }
      }
    } finally {
      try (var paths = Files.walk(work)) {
        for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private static Path minbaseLayer() throws Exception {
    Path layout = DebianImages.minbase();
    try (var blobs = Files.list(layout.resolve("blobs/sha256"))) {
      return blobs.max(java.util.Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
    }
  }

  private static long gzip(Path tar, Path out, int level) throws Exception {
    try (OutputStream o = Files.newOutputStream(out);
        var gz =
            new GZIPOutputStream(o, 1 << 16) {
              {
                def.setLevel(level);
              }
            }) {
      Files.copy(tar, gz);
    }
    return Files.size(out);
  }
}
