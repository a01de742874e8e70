package dev.lazypull.snapshotter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The mounts this process sees, from /proc/self/mountinfo: read without touching any mount. */
final class MountTable {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  private MountTable() {}

  /** One mountinfo line: the kernel's mount id, where it is mounted, its type and source. */
  record Entry(long mountId, String mountPoint, String fsType, String source) {}

  /** Every mount, in mount order (the last one at a path is the one on top). */
  static List<Entry> read() throws IOException {
    var entries = new ArrayList<Entry>();
    for (String line : Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8)) {
      parse(line).ifPresent(entries::add);
    }
    return entries;
  }

  /** One mountinfo line, or empty if it is not one. */
  static Optional<Entry> parse(String line) {
    // "36 35 98:0 /root /mnt/point rw,noatime master:1 - ext4 /dev/sda1 rw": optional fields run
    // up to the lone "-"; type and source follow it.
    String[] fields = line.split(" ");
    int dash = java.util.Arrays.asList(fields).indexOf("-");
    if (fields.length < 5 || dash < 5 || dash + 2 >= fields.length) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new Entry(
              Long.parseLong(fields[0]),
              unescape(fields[4]),
              unescape(fields[dash + 1]),
              unescape(fields[dash + 2])));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** The topmost mount at {@code mountPoint} if it is a FUSE mount. */
  static Optional<Entry> fuseMountAt(Path mountPoint) {
    try {
      String target = mountPoint.toAbsolutePath().toString();
      Entry top = null;
      for (Entry entry : read()) {
        if (entry.mountPoint().equals(target)) {
          top = entry;
        }
      }
      return top != null && top.fsType().startsWith("fuse") ? Optional.of(top) : Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + MOUNTINFO, e);
    }
  }

  /** mountinfo writes space, tab, newline and backslash as three octal digits after a backslash. */
  static String unescape(String field) {
    if (field.indexOf('\\') < 0) {
      return field;
    }
    var out = new java.io.ByteArrayOutputStream();
    byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '\\' && isOctal(bytes, i + 1)) {
        out.write(Integer.parseInt(new String(bytes, i + 1, 3, StandardCharsets.US_ASCII), 8));
        i += 3;
      } else {
        out.write(bytes[i]);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static boolean isOctal(byte[] bytes, int from) {
    for (int i = from; i < from + 3; i++) {
      if (i >= bytes.length || bytes[i] < '0' || bytes[i] > '7') {
        return false;
      }
    }
    return true;
  }
}
