package dev.lazypull.fs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lazypull.oci.Digest;
import dev.lazypull.testing.TestLayers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small image the fault tests mount, and the workload they run on it: read files through the
 * mount in 64 KiB reads, timing each read and comparing each file's sha256 with its plain content.
 */
final class FaultWorkload {
  private FaultWorkload() {}

  /** Path in the image to its plain content: every layer's files, bottom layer first. */
  static final Map<String, byte[]> FILES = files();

  /** A file spanning several 64 KiB spans: read first under a fault. */
  static final String MULTI_SPAN_FILE = "bin/tool";

  private static Map<String, byte[]> files() {
    var files = new LinkedHashMap<String, byte[]>();
    files.put("etc/conf", "key=value\n".getBytes());
    files.put("empty", new byte[0]);
    files.put(MULTI_SPAN_FILE, TestLayers.randomBytes(1, 200_000));
    files.put("data/text", TestLayers.textBytes(2, 300_000));
    files.put("data/mid", TestLayers.randomBytes(3, 70_000));
    for (int i = 0; i < 4; i++) {
      files.put("lib/part" + i, TestLayers.randomBytes(10 + i, 5_000 + 9_000 * i));
    }
    files.put("top/readme", TestLayers.textBytes(4, 20_000));
    files.put("top/blob", TestLayers.randomBytes(5, 90_000));
    return files;
  }

  /** Two gzip layers holding {@link #FILES}; the last two files are in the upper layer. */
  static List<byte[]> layers() {
    var lower = TestLayers.tar();
    var upper = TestLayers.tar();
    lower.dir("etc/").dir("bin/").dir("data/").dir("lib/");
    upper.dir("top/");
    FILES.forEach((path, data) -> (path.startsWith("top/") ? upper : lower).file(path, data));
    return List.of(TestLayers.gzip(lower.build().bytes()), TestLayers.gzip(upper.build().bytes()));
  }

  /** What one pass over some files found. */
  record Outcome(List<String> right, List<String> eio, List<String> wrong, Duration slowestRead) {

    void assertNothingWrong(Duration readBound) {
      assertThat(wrong).as("files whose bytes were wrong").isEmpty();
      assertThat(slowestRead).as("the slowest single read").isLessThan(readBound);
    }

    void assertAllRight(Duration readBound) {
      assertNothingWrong(readBound);
      assertThat(eio).as("files that failed with EIO").isEmpty();
    }
  }

  /**
   * Reads each file through the mount in 64 KiB reads. A file either reads whole and is checked
   * against its plain content, or fails with EIO (any other failure fails the test).
   */
  static Outcome readEach(Path mountPoint, List<String> paths) throws IOException {
    List<String> right = new ArrayList<>();
    List<String> eio = new ArrayList<>();
    List<String> wrong = new ArrayList<>();
    long slowestNanos = 0;
    for (String path : paths) {
      MessageDigest sha256 = Digest.newSha256();
      ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
      try (FileChannel channel = FileChannel.open(mountPoint.resolve(path))) {
        while (true) {
          buffer.clear();
          long start = System.nanoTime();
          int n;
          try {
            n = channel.read(buffer);
          } finally {
            slowestNanos = Math.max(slowestNanos, System.nanoTime() - start);
          }
          if (n < 0) {
            break;
          }
          sha256.update(buffer.array(), 0, n);
        }
      } catch (IOException e) {
        if (String.valueOf(e.getMessage()).contains("Input/output error")) {
          eio.add(path);
          continue;
        }
        throw e;
      }
      Digest expected = Digest.sha256(FILES.get(path));
      if (Digest.fromSha256(sha256.digest()).equals(expected)) {
        right.add(path);
      } else {
        wrong.add(path);
      }
    }
    return new Outcome(right, eio, wrong, Duration.ofNanos(slowestNanos));
  }
}
