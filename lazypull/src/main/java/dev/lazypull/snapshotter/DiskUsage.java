package dev.lazypull.snapshotter;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;

/** Measures a directory tree: apparent bytes of its files and its distinct inodes. */
final class DiskUsage {
  private DiskUsage() {}

  static Usage of(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      return Usage.NONE;
    }
    Set<Object> inodes = new HashSet<>();
    long[] size = {0};
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
            count(attributes);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
            count(attributes);
            return FileVisitResult.CONTINUE;
          }

          private void count(BasicFileAttributes attributes) {
            Object inode = attributes.fileKey();
            // Hard links share an inode: count their bytes once, as du does.
            if (inode == null || inodes.add(inode)) {
              size[0] += attributes.isDirectory() ? 0 : attributes.size();
            }
          }
        });
    return new Usage(size[0], inodes.size());
  }

  /** Deletes a tree without following symlinks; a missing tree is fine. */
  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException failure)
              throws IOException {
            if (failure != null) {
              throw failure;
            }
            Files.delete(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
