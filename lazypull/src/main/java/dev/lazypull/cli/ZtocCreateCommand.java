package dev.lazypull.cli;

import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocBuilder;
import dev.lazypull.ztoc.ZtocCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lazypull ztoc create LAYER --output FILE}: indexes a local gzip or tar layer. */
@Command(
    name = "create",
    mixinStandardHelpOptions = true,
    description = "Build the zTOC of a local layer file (gzip or uncompressed tar).")
public final class ZtocCreateCommand implements Callable<Integer>, CommandFailure.Action {

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "LAYER_FILE", description = "The layer blob.")
  Path layer;

  @Option(
      names = "--span-size",
      paramLabel = "BYTES",
      description = "Uncompressed bytes per span (default ${DEFAULT-VALUE}).")
  long spanSize = ZtocBuilder.DEFAULT_SPAN_SIZE;

  @Option(
      names = {"-o", "--output"},
      required = true,
      paramLabel = "FILE")
  Path output;

  @Override
  public String action() {
    return "ztoc create " + layer;
  }

  @Override
  public Integer call() throws IOException {
    checkOutput();
    var builder = new ZtocBuilder(spanSize, "lazypull " + Version.current());
    Ztoc ztoc = builder.build(layer);
    writeAtomically(ztoc);
    spec.commandLine()
        .getErr()
        .printf(
            "wrote %s: %d files, %d spans of %d bytes, layer %d bytes (%d uncompressed)%n",
            output,
            ztoc.files().size(),
            ztoc.spanCount(),
            spanSize,
            ztoc.compressedArchiveSize(),
            ztoc.uncompressedArchiveSize());
    return 0;
  }

  // Fail before indexing a large layer, not after.
  private void checkOutput() throws IOException {
    Path parent = output.toAbsolutePath().getParent();
    if (Files.isDirectory(output)) {
      throw new IOException("output " + output + " is a directory; give a file name with -o");
    }
    if (parent == null || !Files.isDirectory(parent)) {
      throw new IOException(
          "the directory of output " + output + " does not exist; create it or pick another -o");
    }
  }

  // Never leave a half-written zTOC where a reader would take it for a whole one.
  private void writeAtomically(Ztoc ztoc) throws IOException {
    Path absolute = output.toAbsolutePath();
    Path temp = Files.createTempFile(absolute.getParent(), ".ztoc-", ".tmp");
    try {
      try (var channel =
          java.nio.channels.FileChannel.open(temp, java.nio.file.StandardOpenOption.WRITE)) {
        ZtocCodec.write(ztoc, channel);
      }
      // createTempFile makes 0600 files; an index is no secret, so give it the usual 0644.
      Files.setPosixFilePermissions(
          temp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
      Files.move(
          temp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
