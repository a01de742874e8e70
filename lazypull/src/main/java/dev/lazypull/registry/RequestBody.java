package dev.lazypull.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The body of an upload; can be opened again, so that a failed upload can be retried. */
public interface RequestBody {

  long length();

  InputStream open() throws IOException;

  /** A body held in memory. */
  static RequestBody of(byte[] bytes) {
    return new RequestBody() {
      @Override
      public long length() {
        return bytes.length;
      }

      @Override
      public InputStream open() {
        return new java.io.ByteArrayInputStream(bytes);
      }
    };
  }

  /** {@code length} bytes of a file from {@code fileOffset} on. */
  static RequestBody ofFile(Path file, long fileOffset, long length) {
    return new RequestBody() {
      @Override
      public long length() {
        return length;
      }

      @Override
      public InputStream open() throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        channel.position(fileOffset);
        return new BoundedInputStream(Channels.newInputStream(channel), length);
      }
    };
  }
}
