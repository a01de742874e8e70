package dev.lazypull.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs one container on a read-only root filesystem: overlay on top of it, a runtime bundle from
 * the image config, and runc in the foreground. Every step is undone on exit or signal.
 */
public final class ContainerRun {
  /** How the container ended. {@code firstOutputNanos} is 0 when output was not watched. */
  public record Result(int exitCode, long firstOutputNanos) {}

  private final Runc runc;

  public ContainerRun(Runc runc) {
    this.runc = runc;
  }

  /**
   * Runs the container and waits for it.
   *
   * @param lower the image's root filesystem, read-only (the lazy mount)
   * @param imageConfig the image config JSON
   * @param files reads the image's files with paths resolved inside the image root
   * @param watchOutput whether to copy stdout through lazypull to time the first output byte
   */
  public Result run(
      RunDirectory dir,
      CleanupStack cleanup,
      Path lower,
      JsonNode imageConfig,
      ImageFiles files,
      RunOptions options,
      boolean watchOutput)
      throws IOException, InterruptedException {
    ContainerConfig config = ContainerConfig.fromImageConfig(imageConfig);
    String userSpec = options.user() != null ? options.user() : config.user();
    ProcessUser user = ProcessUser.resolve(userSpec, files);

    OverlayMount overlay = OverlayMount.mount(lower, dir.upper(), dir.work(), dir.rootfs());
    cleanup.push(overlay::close);

    var spec =
        new RuntimeSpec()
            .build(config, options, user, dir.rootfs().toString(), "lazypull", System.getenv());
    Files.writeString(
        dir.bundle().resolve("config.json"),
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(spec));

    String id = dir.containerId();
    cleanup.push(() -> deleteQuietly(id));
    var firstOutput = new AtomicLong();
    int code = runc.run(id, dir.bundle(), firstOutput, watchOutput);
    return new Result(code, firstOutput.get());
  }

  private void deleteQuietly(String id) {
    try {
      runc.delete(id);
    } catch (IOException e) {
      // runc run removes its own state when the container exits; nothing is left to delete.
    }
  }
}
