package dev.lazypull.run;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What the user asked of {@code lazypull run}, beside the image.
 *
 * @param entrypoint replaces the image's entrypoint (and drops its cmd), when set
 * @param args replaces the image's cmd, when not empty
 * @param env {@code KEY=VALUE} to set, or {@code KEY} to copy from lazypull's environment
 * @param workingDir replaces the image's working dir, when set
 * @param user replaces the image's user, when set: {@code uid[:gid]} or {@code name[:group]}
 * @param binds {@code SRC:DST[:ro]} bind mounts
 * @param tty whether the process gets a terminal
 * @param networkNone whether the process gets an empty network namespace instead of the host's
 */
public record RunOptions(
    @Nullable String entrypoint,
    List<String> args,
    List<String> env,
    @Nullable String workingDir,
    @Nullable String user,
    List<String> binds,
    boolean tty,
    boolean networkNone) {}
