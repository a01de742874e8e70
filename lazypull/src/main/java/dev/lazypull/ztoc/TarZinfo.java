package dev.lazypull.ztoc;

import com.google.flatbuffers.FlatBufferBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The span layout of an uncompressed tar layer: span i is bytes {@code [i * spanSize, (i + 1) *
 * spanSize)}. Stored as the small FlatBuffer {@code TarZinfo { version int, span_size long, size
 * long }}.
 */
public record TarZinfo(int version, long spanSize, long size) implements SpanLayout {

  static final int CURRENT_VERSION = 2;

  public TarZinfo {
    if (spanSize <= 0 || size < 0) {
      throw new IllegalArgumentException(
          "tar span info has span size " + spanSize + " and size " + size);
    }
  }

  @Override
  public int spanCount() {
    return (int) Math.max(1, (size + spanSize - 1) / spanSize);
  }

  @Override
  public int encodedSize() {
    return flatBuffer().length;
  }

  @Override
  public void writeTo(ByteBuffer out) {
    out.put(flatBuffer());
  }

  private byte[] flatBuffer() {
    FlatBufferBuilder builder = new FlatBufferBuilder(64);
    builder.startTable(3);
    builder.addLong(2, size, 0);
    builder.addLong(1, spanSize, 0);
    builder.addInt(0, version, 0);
    builder.finish(builder.endTable());
    return builder.sizedByteArray();
  }

  static TarZinfo decode(byte[] blob) throws ZtocException {
    try {
      ByteBuffer bb = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
      FlatTable table = FlatTable.root(bb);
      return new TarZinfo(table.getInt(0, 0), table.getLong(1, 0), table.getLong(2, 0));
    } catch (RuntimeException e) {
      throw new ZtocException("zTOC has unreadable tar span info: " + e.getMessage(), e);
    }
  }
}
