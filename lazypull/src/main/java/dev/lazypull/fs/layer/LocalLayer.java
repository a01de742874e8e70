package dev.lazypull.fs.layer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jspecify.annotations.Nullable;

/** A layer whose whole uncompressed tar is on local disk: small layers and unindexed images. */
public final class LocalLayer implements LayerReader, AutoCloseable {
  private final FileChannel tar;
  private final long size;
  private final String describe;
  private volatile @Nullable String badReason;

  private LocalLayer(FileChannel tar, long size, String describe) {
    this.tar = tar;
    this.size = size;
    this.describe = describe;
  }

  /** Opens an uncompressed tar file that was verified against the layer's digest. */
  public static LocalLayer open(Path uncompressedTar, String describe) throws IOException {
    FileChannel channel = FileChannel.open(uncompressedTar, StandardOpenOption.READ);
    return new LocalLayer(channel, channel.size(), describe);
  }

  @Override
  public int read(long uncompressedOffset, ByteBuffer into) throws IOException {
    String reason = badReason;
    if (reason != null) {
      throw new BadLayerException("layer " + describe + " is marked bad: " + reason);
    }
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
    if (badReason == null) {
      badReason = reason;
    }
  }

  @Override
  public void close() throws IOException {
    tar.close();
  }
}
