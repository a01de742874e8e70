package dev.lazypull.ztoc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Compressed ranges read from a local layer file. */
public record FileRangeSource(Path layer) implements CompressedRangeSource {

  @Override
  public InputStream open(long compressedOffset, long length) throws IOException {
    FileChannel channel = FileChannel.open(layer, StandardOpenOption.READ);
    long size = channel.size();
    if (compressedOffset < 0 || length < 0 || compressedOffset + length > size) {
      channel.close();
      throw new IOException(
          "range ["
              + compressedOffset
              + ", "
              + (compressedOffset + length)
              + ") is outside "
              + layer
              + " ("
              + size
              + " bytes): is this the layer the zTOC was built from?");
    }
    channel.position(compressedOffset);
    return new BoundedInputStream(Channels.newInputStream(channel), length);
  }
}
