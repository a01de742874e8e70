package dev.lazypull.fuse;

import dev.lazypull.fuse.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** mount(2), umount2(2) and /dev/fuse descriptors. */
final class KernelMounter {
  private static final Logger LOG = LoggerFactory.getLogger(KernelMounter.class);

  private KernelMounter() {}

  /**
   * Detaches a mount whose FUSE server died: stat on it fails with ENOTCONN ("Transport endpoint is
   * not connected") and nothing else can be mounted on it until it is gone. Returns true if it did.
   */
  static boolean detachDeadMount(String mountPoint) throws IOException {
    if (Libc.statfsErrno(mountPoint) != -Errno.ENOTCONN) {
      return false;
    }
    int result = Libc.umount2(mountPoint, Libc.MNT_DETACH);
    if (result < 0) {
      throw new IOException(
          "detaching the dead FUSE mount at "
              + mountPoint
              + ": "
              + Libc.strerror(-result)
              + "; try umount -l "
              + mountPoint);
    }
    LOG.warn("Detached a dead FUSE mount at {} left by a server that died", mountPoint);
    return true;
  }

  static int openDevice() throws IOException {
    return openDevice(0);
  }

  private static int openDevice(int extraFlags) throws IOException {
    int fd =
        Libc.open(
            "/dev/fuse".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
            Libc.O_RDWR | Libc.O_CLOEXEC | extraFlags);
    if (fd < 0) {
      throw new IOException(
          "opening /dev/fuse: "
              + Libc.strerror(-fd)
              + "; load the fuse module, or give the container the device (--device /dev/fuse)"
              + " and run as root");
    }
    return fd;
  }

  static void mount(int fd, String mountPoint, MountOptions options) throws IOException {
    var data =
        "fd="
            + fd
            + ",rootmode=40000,user_id="
            + Libc.getuid()
            + ",group_id="
            + Libc.getgid()
            + (options.allowOther() ? ",allow_other" : "")
            + (options.defaultPermissions() ? ",default_permissions" : "");
    long flags = Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_RDONLY;
    int result = Libc.mount(options.source(), mountPoint, "fuse." + options.subtype(), flags, data);
    if (result < 0) {
      throw new IOException(
          "mounting FUSE at "
              + mountPoint
              + ": "
              + Libc.strerror(-result)
              + "; mounting needs root (CAP_SYS_ADMIN) and an existing directory");
    }
  }

  /**
   * A non-blocking descriptor of the same connection, so that each worker reads its own queue end
   * and a worker can stop between requests (see {@link Worker#run}).
   */
  static int cloneDevice(int fd) throws IOException {
    int clone = openDevice(Libc.O_NONBLOCK);
    try (var arena = Arena.ofConfined()) {
      var original = arena.allocateFrom(ValueLayout.JAVA_INT, fd);
      int result = Libc.ioctl(clone, Protocol.DEV_IOC_CLONE, original);
      if (result < 0) {
        Libc.close(clone);
        throw new IOException("FUSE_DEV_IOC_CLONE: " + Libc.strerror(-result));
      }
    }
    return clone;
  }

  /** Unmounts; returns 0 or -errno (EBUSY while files are open, unless detaching lazily). */
  static int unmount(String mountPoint, boolean detach) {
    return Libc.umount2(mountPoint, detach ? Libc.MNT_DETACH : 0);
  }
}
