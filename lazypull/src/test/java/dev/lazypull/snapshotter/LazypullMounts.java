package dev.lazypull.snapshotter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** lazypull's FUSE mounts (type {@code fuse.lazypull}) as /proc/self/mountinfo shows them. */
final class LazypullMounts {
  private LazypullMounts() {}

  /** Mount points of lazypull's FUSE mounts under {@code root}. */
  static List<String> mountPoints(Path root) throws IOException {
    return fields(root, true);
  }

  /** Sources ({@code lazypull:LAYER-DIGEST}) of lazypull's FUSE mounts under {@code root}. */
  static List<String> sources(Path root) throws IOException {
    return fields(root, false);
  }

  /**
   * The lower dirs of the overlay mounted at / in a mountinfo text (a container's own), which names
   * them in its super options.
   */
  static List<String> rootLowerDirs(String mountinfo) {
    for (String line : mountinfo.split("\n")) {
      String[] halves = line.split(" - ", 2);
      String[] fields = halves[0].split(" ");
      if (halves.length == 2 && fields.length > 4 && fields[4].equals("/")) {
        for (String option : halves[1].split(" ")[2].split(",")) {
          if (option.startsWith("lowerdir=")) {
            return List.of(option.substring("lowerdir=".length()).split(":"));
          }
        }
      }
    }
    throw new AssertionError("no overlay with lowerdir at / in:\n" + mountinfo);
  }

  private static List<String> fields(Path root, boolean mountPoint) throws IOException {
    String prefix = root.toAbsolutePath() + "/";
    List<String> found = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] halves = line.split(" - ", 2);
      if (halves.length != 2 || !halves[1].startsWith("fuse.lazypull ")) {
        continue;
      }
      String point = halves[0].split(" ")[4];
      if (point.startsWith(prefix)) {
        found.add(mountPoint ? point : halves[1].split(" ")[1]);
      }
    }
    return found;
  }
}
