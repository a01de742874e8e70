package dev.lazypull.ztoc;

import com.google.flatbuffers.Table;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/** Reads one FlatBuffers table by field id (vtable slot {@code 4 + 2 * id}). */
final class FlatTable extends Table {

  private FlatTable(int position, ByteBuffer bb) {
    __reset(position, bb);
  }

  static FlatTable root(ByteBuffer bb) {
    return new FlatTable(bb.getInt(bb.position()) + bb.position(), bb);
  }

  private int slot(int id) {
    return __offset(4 + 2 * id);
  }

  boolean has(int id) {
    return slot(id) != 0;
  }

  long getLong(int id, long fallback) {
    int o = slot(id);
    return o != 0 ? bb.getLong(o + bb_pos) : fallback;
  }

  int getInt(int id, int fallback) {
    int o = slot(id);
    return o != 0 ? bb.getInt(o + bb_pos) : fallback;
  }

  long getUnsignedInt(int id) {
    return getInt(id, 0) & 0xffffffffL;
  }

  byte getByte(int id, byte fallback) {
    int o = slot(id);
    return o != 0 ? bb.get(o + bb_pos) : fallback;
  }

  String getString(int id) {
    return new String(getStringBytes(id), StandardCharsets.UTF_8);
  }

  /** A string field's raw bytes (FlatBuffers strings may hold any bytes). */
  byte[] getStringBytes(int id) {
    int o = slot(id);
    if (o == 0) {
      return new byte[0];
    }
    int at = __indirect(o + bb_pos);
    byte[] bytes = new byte[checkedLength(at, 1)];
    bb.get(at + 4, bytes);
    return bytes;
  }

  @Nullable FlatTable getTable(int id) {
    int o = slot(id);
    return o != 0 ? new FlatTable(__indirect(o + bb_pos), bb) : null;
  }

  int vectorLength(int id) {
    int o = slot(id);
    return o != 0 ? checkedLength(__indirect(o + bb_pos), 4) : 0;
  }

  // A corrupt length must fail as a bad buffer, not as a huge allocation.
  private int checkedLength(int at, int elementSize) {
    int length = bb.getInt(at);
    if (length < 0 || (long) at + 4 + (long) length * elementSize > bb.limit()) {
      throw new IndexOutOfBoundsException(
          "vector of " + length + " at " + at + " runs past the " + bb.limit() + "-byte buffer");
    }
    return length;
  }

  FlatTable vectorTable(int id, int index) {
    int element = __vector(slot(id)) + index * 4;
    return new FlatTable(__indirect(element), bb);
  }

  String vectorString(int id, int index) {
    int element = __vector(slot(id)) + index * 4;
    return __string(element);
  }

  /** A [ubyte] vector as a view of the buffer, without a copy; empty if absent. */
  ByteBuffer vectorView(int id) {
    int o = slot(id);
    if (o == 0) {
      return ByteBuffer.allocate(0);
    }
    int length = checkedLength(__indirect(o + bb_pos), 1);
    return bb.slice(__vector(o), length);
  }

  byte[] vectorBytes(int id) {
    int o = slot(id);
    if (o == 0) {
      return new byte[0];
    }
    byte[] bytes = new byte[checkedLength(__indirect(o + bb_pos), 1)];
    bb.get(__vector(o), bytes);
    return bytes;
  }
}
