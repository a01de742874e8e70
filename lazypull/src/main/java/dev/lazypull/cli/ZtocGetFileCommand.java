package dev.lazypull.cli;

import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.soci.RegistryRangeSource;
import dev.lazypull.tar.TarEntryType;
import dev.lazypull.ztoc.ByteText;
import dev.lazypull.ztoc.CompressedRangeSource;
import dev.lazypull.ztoc.Extraction;
import dev.lazypull.ztoc.FileMetadata;
import dev.lazypull.ztoc.FileRangeSource;
import dev.lazypull.ztoc.SpanExtractor;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocCodec;
import dev.lazypull.ztoc.ZtocException;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lazypull ztoc get-file ZTOC LAYER PATH}: extracts one file through the zTOC, reading only
 * the spans it touches. The layer comes from a {@link CompressedRangeSource}, so a registry-backed
 * variant ({@code --image --layer}) only has to supply another source.
 */
@Command(
    name = "get-file",
    mixinStandardHelpOptions = true,
    description = "Extract one file from a layer, reading only the spans that hold it.")
public final class ZtocGetFileCommand implements Callable<Integer>, CommandFailure.Action {

  private static final int MAX_LINK_HOPS = 40;

  @Spec CommandSpec spec;

  @Mixin RegistryOptionsMixin registry;

  @Mixin ImageLayerOptions fromImage;

  // Offline: ZTOC_FILE LAYER_FILE PATH. With --image/--layer: PATH only.
  @Parameters(
      arity = "1..3",
      paramLabel = "ARGS",
      description =
          "ZTOC_FILE LAYER_FILE PATH, or PATH with --image and --layer. PATH is inside the"
              + " layer; a name that is not UTF-8 as hex: and its bytes in hex, as"
              + " 'ztoc info --json' shows it.")
  List<String> arguments = new ArrayList<>();

  private String path = "";

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FILE",
      description = "Default: stdout.")
  @Nullable Path output;

  @Override
  public String action() {
    return "ztoc get-file " + (arguments.isEmpty() ? "" : arguments.getLast());
  }

  /** What a read goes through: the zTOC, where its layer's bytes come from, and its name. */
  private record Source(Ztoc ztoc, CompressedRangeSource range, String layerName) {}

  /** Set when reading through a registry: it counts every body byte received. */
  private @Nullable RegistryClient client;

  @Override
  public Integer call() throws IOException, RegistryException {
    Source source = fromImage.used() ? imageSource() : fileSource();
    Ztoc ztoc = source.ztoc();
    FileMetadata file = regularFile(ztoc, path);
    var extractor = new SpanExtractor(ztoc, source.range(), source.layerName());
    Extraction extraction;
    try (OutputStream out = openOutput()) {
      extraction = extractor.extractFile(file, out);
    }
    spec.commandLine()
        .getErr()
        .printf(
            "%s: %d bytes from spans %d-%d; read %d of %d compressed bytes (%.1f%%)%n",
            path,
            extraction.uncompressedBytes(),
            extraction.firstSpan(),
            extraction.lastSpan(),
            extraction.compressedBytesRead(),
            ztoc.compressedArchiveSize(),
            100.0 * extraction.compressedBytesRead() / Math.max(1, ztoc.compressedArchiveSize()));
    RegistryClient registryClient = client;
    if (registryClient != null) {
      spec.commandLine()
          .getErr()
          .printf(
              "registry sent %d bytes in all (manifests, index, zTOC and spans)%n",
              registryClient.bytesReceived());
    }
    spec.commandLine().getErr().flush();
    return 0;
  }

  private Source fileSource() throws IOException {
    if (arguments.size() != 3) {
      throw new ParameterException(
          spec.commandLine(),
          "give ZTOC_FILE LAYER_FILE PATH, or --image IMAGE --layer DIGEST PATH");
    }
    Path ztocFile = Path.of(arguments.get(0));
    Path layerFile = Path.of(arguments.get(1));
    path = arguments.get(2);
    Ztoc ztoc = ZtocCodec.decode(Files.readAllBytes(ztocFile), ztocFile.toString());
    return new Source(ztoc, new FileRangeSource(layerFile), layerFile.toString());
  }

  // Spans come with ranged GETs from the registry; the zTOC through the image's SOCI index.
  private Source imageSource() throws IOException, RegistryException {
    fromImage.check(spec);
    if (arguments.size() != 1) {
      throw new ParameterException(
          spec.commandLine(), "with --image and --layer give only the PATH inside the layer");
    }
    path = arguments.getFirst();
    RegistryClient client = registry.client();
    this.client = client;
    ImageLayerOptions.Loaded loaded = fromImage.load(client);
    var range =
        new RegistryRangeSource(client, loaded.found().image().requested(), loaded.layer().layer());
    return new Source(
        loaded.ztoc(),
        range,
        loaded.layer().layer().digest() + " of " + loaded.found().image().requested());
  }

  private OutputStream openOutput() throws IOException {
    if (output == null) {
      return new BufferedOutputStream(
          new FileOutputStream(java.io.FileDescriptor.out) {
            @Override
            public void close() throws IOException {
              flush(); // keep stdout open
            }
          },
          1 << 16);
    }
    return new BufferedOutputStream(Files.newOutputStream(output), 1 << 16);
  }

  /**
   * The entry holding {@code path}'s data; hardlinks lead to their target's entry. {@code path} is
   * UTF-8 text or {@code hex:} and the name's bytes in hex ({@link ByteText#parse}).
   */
  static FileMetadata regularFile(Ztoc ztoc, String path) throws ZtocException {
    byte[] wanted;
    try {
      wanted = ByteText.parse(path);
    } catch (IllegalArgumentException e) {
      throw new ZtocException(
          "path " + path + " starts with hex: but the rest is not hex (" + e.getMessage() + ")");
    }
    for (int hop = 0; hop < MAX_LINK_HOPS; hop++) {
      // Hops compare exact bytes: lossy text could match a different non-UTF-8 name.
      String current = ByteText.textOrHex(wanted);
      FileMetadata file =
          ztoc.find(wanted)
              .orElseThrow(
                  () ->
                      new ZtocException(
                          "no file "
                              + current
                              + " in the layer"
                              + " (list files with: lazypull ztoc info)"));
      if (file.type() == TarEntryType.REGULAR) {
        return file;
      }
      if (file.type() != TarEntryType.HARDLINK) {
        throw new ZtocException(
            current
                + " is a "
                + file.type().ztocName()
                + (file.hasLinkName() ? " to " + ByteText.textOrHex(file.linkNameBytes()) : "")
                + ", not a regular file");
      }
      wanted = file.linkNameBytes();
    }
    throw new ZtocException(path + ": more than " + MAX_LINK_HOPS + " hardlink hops");
  }
}
