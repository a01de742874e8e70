package dev.lazypull.fs.layer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A layer whose whole uncompressed tar is on local disk: small layers and unindexed images. */
public final class LocalLayer implements LayerReader, AutoCloseable {
  private final FileChannel tar;
  private final long size;
  private final String describe;
  private final LayerHealth health;

  private LocalLayer(FileChannel tar, long size, String describe) {
    this.tar = tar;
    this.size = size;
    this.describe = describe;
    this.health = new LayerHealth(describe);
  }

  /** Opens an uncompressed tar file that was verified against the layer's digest. */
  public static LocalLayer open(Path uncompressedTar, String describe) throws IOException {
    FileChannel channel = FileChannel.open(uncompressedTar, StandardOpenOption.READ);
    return new LocalLayer(channel, channel.size(), describe);
  }

  @Override
  public int read(long uncompressedOffset, ByteBuffer into) throws IOException {
    health.check();
    int total = 0;
    long position = uncompressedOffset;
    while (into.hasRemaining() && position < size) {
      int n = tar.read(into, position);
      if (n < 0) {
        break;
      }
      total += n;
      position += n;
    }
    return total;
  }

  @Override
  public long uncompressedSize() {
    return size;
  }

  @Override
  public String describe() {
    return describe;
  }

  @Override
  public void markBad(String reason) {
    health.markBad(reason);
  }

  @Override
  public void close() throws IOException {
    tar.close();
  }
}
