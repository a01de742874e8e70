package dev.lazypull.cli;

import dev.lazypull.fuse.FuseMount;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lazypull umount DIR}: ends a lazypull mount; its serving process then exits. */
@Command(
    name = "umount",
    mixinStandardHelpOptions = true,
    description = "Unmount a lazypull mount (also one whose server died).")
public final class UmountCommand implements Callable<Integer>, CommandFailure.Action {
  @Parameters(index = "0", paramLabel = "DIR", description = "The mount point.")
  Path mountPoint;

  @Option(names = "--lazy", description = "Detach now even if files are still open.")
  boolean lazy;

  @Override
  public String action() {
    return "umount " + mountPoint;
  }

  @Override
  public Integer call() throws Exception {
    Path absolute = mountPoint.toAbsolutePath().normalize();
    if (FuseMount.detachDeadMount(absolute)) {
      return 0; // the server had died: the dead mount is gone now
    }
    if (!MountCommand.isLazypullMount(absolute)) {
      throw new IOException(
          "nothing of lazypull is mounted at "
              + absolute
              + "; see /proc/mounts for fuse.lazypull mounts");
    }
    Process umount =
        new ProcessBuilder(
                lazy
                    ? new String[] {"umount", "-l", absolute.toString()}
                    : new String[] {"umount", absolute.toString()})
            .redirectErrorStream(true)
            .start();
    String output = new String(umount.getInputStream().readAllBytes()).strip();
    if (!umount.waitFor(60, TimeUnit.SECONDS) || umount.exitValue() != 0) {
      throw new IOException(output.replaceAll("\\.$", "") + "; close what uses it, or pass --lazy");
    }
    return 0;
  }
}
