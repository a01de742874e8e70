package dev.lazypull.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The container's root: kernel overlayfs with the read-only lazy mount as its lower layer and a
 * writable upper directory, so that the container can write without touching the image.
 */
public final class OverlayMount implements AutoCloseable {
  private final Path target;
  private boolean mounted;

  private OverlayMount(Path target) {
    this.target = target;
  }

  /** Mounts lower + upper on target; work must be on the same filesystem as upper. */
  public static OverlayMount mount(Path lower, Path upper, Path work, Path target)
      throws IOException {
    for (Path dir : List.of(upper, work, target)) {
      Files.createDirectories(dir);
    }
    String options = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
    Commands.run(List.of("mount", "-t", "overlay", "overlay", "-o", options, target.toString()));
    var overlay = new OverlayMount(target);
    overlay.mounted = true;
    return overlay;
  }

  public Path path() {
    return target;
  }

  @Override
  public void close() throws IOException {
    if (mounted) {
      mounted = false;
      Commands.run(List.of("umount", "-l", target.toString()));
    }
  }
}
