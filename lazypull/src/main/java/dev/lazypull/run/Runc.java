package dev.lazypull.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Debian's runc, started in the foreground so that it passes stdin, stdout and stderr through and
 * returns the container's exit code. State lives in lazypull's own runc root, so that lazypull's
 * containers never mix with other tools' containers.
 */
public final class Runc {
  private final Path stateRoot;

  public Runc(Path stateRoot) {
    this.stateRoot = stateRoot;
  }

  /**
   * Runs the bundle's container until it exits.
   *
   * @param firstOutputNanos receives {@link System#nanoTime()} of the first byte of output when not
   *     null; stdout is then copied through lazypull instead of inherited
   * @return the container's exit code (128 + signal if it was killed)
   */
  public int run(String id, Path bundle, AtomicLong firstOutputNanos, boolean watchOutput)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(base());
    command.addAll(List.of("run", "--bundle", bundle.toString(), id));
    var builder = new ProcessBuilder(command).inheritIO();
    if (watchOutput) {
      builder.redirectOutput(ProcessBuilder.Redirect.PIPE);
    }
    Process process = builder.start();
    Thread copier = null;
    if (watchOutput) {
      copier =
          Thread.ofPlatform()
              .name("stdout-copier")
              .start(() -> copy(process.getInputStream(), System.out, firstOutputNanos));
    }
    int code = process.waitFor();
    if (copier != null) {
      copier.join();
    }
    return code;
  }

  private static void copy(InputStream from, OutputStream to, AtomicLong firstOutputNanos) {
    byte[] buffer = new byte[8192];
    try {
      int n;
      while ((n = from.read(buffer)) > 0) {
        firstOutputNanos.compareAndSet(0, System.nanoTime());
        to.write(buffer, 0, n);
        to.flush();
      }
    } catch (IOException e) {
      // The container's stdout closed or ours did; nothing more to copy.
    }
  }

  /** Sends a signal to the container's init process. */
  public void kill(String id, String signal) throws IOException {
    Commands.run(concat(List.of("kill", id, signal)));
  }

  /** Removes the container's runc state, killing it first if it still runs. */
  public void delete(String id) throws IOException {
    Commands.run(concat(List.of("delete", "--force", id)));
  }

  /** The ids of containers in lazypull's runc root. */
  public List<String> list() throws IOException {
    List<String> ids = new ArrayList<>();
    for (String line : Commands.run(concat(List.of("list", "--quiet"))).split("\n")) {
      if (!line.isBlank()) {
        ids.add(line.strip());
      }
    }
    return ids;
  }

  private List<String> base() {
    return List.of("runc", "--root", stateRoot.toString());
  }

  private List<String> concat(List<String> tail) {
    List<String> command = new ArrayList<>(base());
    command.addAll(tail);
    return command;
  }
}
