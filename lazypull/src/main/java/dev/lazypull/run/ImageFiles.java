package dev.lazypull.run;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * Reads small files of an image by path, resolving the path inside the image root: a symlink such
 * as {@code /etc/passwd -> /proc/1/root/etc/shadow} must never reach the host.
 */
@FunctionalInterface
public interface ImageFiles {
  /** The file's bytes, or null if the path does not resolve to a regular file. */
  byte @Nullable [] read(String path) throws IOException;
}
