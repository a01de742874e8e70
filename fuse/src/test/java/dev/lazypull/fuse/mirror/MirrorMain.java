package dev.lazypull.fuse.mirror;

import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import java.nio.file.Path;

/**
 * Serves a mirror in its own JVM until unmounted: {@code MirrorMain SOURCE MOUNTPOINT
 * [--passthrough] [--workers N]}. Prints "mounted" once serving, for the caller to wait on. Used by
 * the killed-server test and by bench/fuse-read.sh.
 */
public final class MirrorMain {
  private MirrorMain() {}

  public static void main(String[] args) throws Exception {
    boolean passthrough = false;
    int workers = 4;
    for (int i = 2; i < args.length; i++) {
      switch (args[i]) {
        case "--passthrough" -> passthrough = true;
        case "--workers" -> workers = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    var fs = new MirrorFilesystem(MirrorFilesystem.bytes(args[0]), passthrough);
    var options =
        MountOptions.defaults("mirror", "mirror").withPassthrough(passthrough).withWorkers(workers);
    var mount = FuseMount.mount(Path.of(args[1]), fs, options);
    System.out.println("mounted passthrough=" + mount.passthroughEnabled());
    System.out.flush();
    mount.awaitEnd();
    System.out.println("reads=" + fs.readCount());
    System.out.println("requests=" + mount.requestCounts());
  }
}
