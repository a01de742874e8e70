package dev.lazypull.run;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scratch directory of one {@code lazypull run}: the lazy mount point, the overlay's upper and
 * work dirs, and the runc bundle. Each is named after its owner's PID, so that the next run can
 * remove what a killed one left.
 */
public final class RunDirectory implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RunDirectory.class);

  private final Path dir;

  private RunDirectory(Path dir) {
    this.dir = dir;
  }

  /** Makes a new run directory under {@code parent}, after removing dead runs' leftovers. */
  public static RunDirectory create(Path parent) throws IOException {
    Files.createDirectories(parent);
    removeLeftovers(parent);
    Path dir = Files.createTempDirectory(parent, ProcessHandle.current().pid() + "-");
    return new RunDirectory(dir);
  }

  public Path lower() {
    return dir.resolve("lower");
  }

  public Path upper() {
    return dir.resolve("upper");
  }

  public Path work() {
    return dir.resolve("work");
  }

  public Path bundle() {
    return dir.resolve("bundle");
  }

  public Path rootfs() {
    return bundle().resolve("rootfs");
  }

  /** The container id for runc: unique per run. */
  public String containerId() {
    return "lazypull-" + dir.getFileName();
  }

  private static void removeLeftovers(Path parent) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        int dash = name.indexOf('-');
        if (dash <= 0) {
          continue;
        }
        long pid;
        try {
          pid = Long.parseLong(name.substring(0, dash));
        } catch (NumberFormatException e) {
          continue;
        }
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        log.info("removing {} left by a run that ended without cleaning up", entry);
        deleteTree(entry);
      }
    }
  }

  /**
   * Deletes a tree without crossing into anything still mounted below it: mounts are detached
   * first, so a stale mount can never make this delete an image's or the host's files.
   */
  static void deleteTree(Path root) throws IOException {
    for (Path mountPoint : mountsBelow(root)) {
      try {
        Commands.run(List.of("umount", "-l", mountPoint.toString()));
      } catch (IOException e) {
        log.warn("could not unmount {}: {}; leaving {} in place", mountPoint, e.getMessage(), root);
        return;
      }
    }
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  /** Mount points at or below root, deepest first, from /proc/self/mountinfo. */
  static List<Path> mountsBelow(Path root) throws IOException {
    Path absolute = root.toAbsolutePath().normalize();
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .map(line -> line.split(" ")[4])
        .map(field -> Path.of(field.replace("\\040", " ")))
        .filter(mountPoint -> mountPoint.startsWith(absolute))
        .sorted(Comparator.comparingInt(Path::getNameCount).reversed())
        .toList();
  }

  @Override
  public void close() throws IOException {
    deleteTree(dir);
  }
}
