package dev.lazypull.testing;

import dev.lazypull.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a directory tree looks like to {@code stat}, {@code readlink}, {@code getfattr} and a
 * content hash, path by path, for comparing a lazy mount with an independent unpack. Hardlinks are
 * compared as groups of paths that share an inode.
 */
public final class TreeSnapshot {
  private final Map<String, String> entries = new TreeMap<>();
  private final List<TreeSet<String>> hardlinkGroups = new ArrayList<>();
  private final Map<String, List<String>> xattrsByPath = new HashMap<>();

  private TreeSnapshot() {}

  /** Records every path below {@code root} (not following symlinks). */
  public static TreeSnapshot of(Path root) throws IOException {
    var snapshot = new TreeSnapshot();
    snapshot.xattrsByPath.putAll(allXattrs(root));
    Map<Object, TreeSet<String>> byInode = new HashMap<>();
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            snapshot.record(root, dir, byInode);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            snapshot.record(root, file, byInode);
            return FileVisitResult.CONTINUE;
          }
        });
    for (TreeSet<String> group : byInode.values()) {
      if (group.size() > 1) {
        snapshot.hardlinkGroups.add(group);
      }
    }
    snapshot.hardlinkGroups.sort((a, b) -> a.first().compareTo(b.first()));
    return snapshot;
  }

  private void record(Path root, Path path, Map<Object, TreeSet<String>> byInode)
      throws IOException {
    String relative = "/" + root.relativize(path);
    Map<String, Object> attrs = Files.readAttributes(path, "unix:*", LinkOption.NOFOLLOW_LINKS);
    int mode = (int) attrs.get("mode");
    int type = mode & 0170000;
    var line = new StringBuilder();
    line.append(String.format("mode=%o uid=%s gid=%s", mode, attrs.get("uid"), attrs.get("gid")));
    switch (type) {
      case 0100000 -> {
        line.append(" size=").append(attrs.get("size")).append(" sha256=").append(hash(path));
        if (relative.length() > 1) {
          byInode.computeIfAbsent(attrs.get("ino"), k -> new TreeSet<>()).add(relative);
        }
      }
      case 0120000 -> line.append(" target=").append(Files.readSymbolicLink(path));
      case 0020000, 0060000 -> line.append(" rdev=").append(attrs.get("rdev"));
      default -> {}
    }
    if (relative.length() > 1) {
      line.append(" xattrs=").append(xattrsByPath.getOrDefault(relative, List.of()));
    }
    entries.put(relative, line.toString());
  }

  private static String hash(Path file) throws IOException {
    MessageDigest sha = Digest.newSha256();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[1 << 16];
      int n;
      while ((n = in.read(buffer)) > 0) {
        sha.update(buffer, 0, n);
      }
    }
    return Digest.fromSha256(sha.digest()).shortHex();
  }

  /** Every path's xattrs from one recursive getfattr, keyed by path relative to root. */
  private static Map<String, List<String>> allXattrs(Path root) throws IOException {
    Process process =
        new ProcessBuilder(
                "getfattr",
                "-R",
                "-h",
                "-d",
                "-m",
                "-",
                "-e",
                "hex",
                "--absolute-names",
                root.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String out = new String(process.getInputStream().readAllBytes());
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Map<String, List<String>> result = new HashMap<>();
    String current = null;
    for (String line : out.lines().toList()) {
      if (line.startsWith("# file: ")) {
        String absolute = line.substring("# file: ".length());
        current = "/" + root.relativize(Path.of(absolute));
      } else if (current != null && line.contains("=")) {
        result.computeIfAbsent(current, k -> new ArrayList<>()).add(line);
      }
    }
    result.values().forEach(list -> list.sort(null));
    return result;
  }

  public Map<String, String> entries() {
    return entries;
  }

  public List<TreeSet<String>> hardlinkGroups() {
    return hardlinkGroups;
  }
}
