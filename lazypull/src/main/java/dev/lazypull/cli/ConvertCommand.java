package dev.lazypull.cli;

import dev.lazypull.estargz.EstargzReader;
import dev.lazypull.estargz.EstargzWriter;
import dev.lazypull.estargz.image.EstargzImageConverter;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.soci.Conversion;
import dev.lazypull.soci.ConvertedImage;
import dev.lazypull.soci.ImageConverter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.zip.Deflater;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lazypull convert SRC DST}: pushes a SOCI-enabled (index v2) copy of an image, or with
 * {@code --format estargz} an eStargz copy.
 */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    description = {
      "Make a SOCI-enabled image (index v2) from SRC and push it as DST.",
      "DST is an ordinary OCI image index: its image manifests carry the SOCI index digest.",
      "With --format estargz, every layer is rewritten as eStargz and DST is an image manifest."
    })
public final class ConvertCommand implements Callable<Integer>, CommandFailure.Action {

  @Spec CommandSpec spec;

  @Mixin RegistryOptionsMixin registry;

  @Mixin IndexingOptionsMixin indexing;

  @Option(names = "--all-platforms", description = "Convert every platform of an image index.")
  boolean allPlatforms;

  /** The formats {@code convert} can make. */
  enum Format {
    soci,
    estargz
  }

  @Option(
      names = "--format",
      defaultValue = "soci",
      description = "soci (default: add a SOCI index) or estargz (rewrite every layer).")
  Format format;

  @Option(
      names = "--chunk-size",
      defaultValue = "4194304",
      description = "estargz: split files larger than this many bytes into chunks (4 MiB).")
  long chunkSize;

  @Option(
      names = "--prefetch-from",
      paramLabel = "FILE",
      description = "estargz: a file listing the start-up files (one path a line) to put first.")
  @Nullable Path prefetchFrom;

  @Parameters(index = "0", paramLabel = "SRC", description = "The image to convert.")
  String source;

  @Parameters(index = "1", paramLabel = "DST", description = "Where to push the result (a tag).")
  String destination;

  @Override
  public String action() {
    return "convert " + source + " " + destination;
  }

  @Override
  public Integer call() throws Exception {
    if (format == Format.estargz) {
      return convertToEstargz();
    }
    var converter =
        new ImageConverter(registry.client(), indexing.options(registry.platform(), allPlatforms));
    Conversion conversion =
        converter.convert(ImageReference.parse(source), ImageReference.parse(destination));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    for (ConvertedImage image : conversion.images()) {
      out.printf(
          "%s: image manifest %s, SOCI index %s (%d zTOCs)%n",
          image.platform(),
          image.manifest().digest(),
          image.index().digest(),
          image.index().ztocs().size());
      LayerResults.print(image.layers(), out, err);
    }
    out.printf("pushed %s (OCI index %s)%n", conversion.destination(), conversion.indexDigest());
    out.flush();
    err.flush();
    return 0;
  }

  private int convertToEstargz() throws Exception {
    if (allPlatforms) {
      throw new UsageError.InvalidOption(
          "--all-platforms is not supported with --format estargz yet; pick one with --platform");
    }
    List<String> prefetch = List.of();
    if (prefetchFrom != null) {
      prefetch =
          Files.readAllLines(prefetchFrom).stream()
              .map(String::strip)
              .filter(line -> !line.isEmpty() && !line.startsWith("#"))
              .toList();
    }
    var options = new EstargzWriter.Options(chunkSize, prefetch, Deflater.BEST_COMPRESSION);
    var converter =
        new EstargzImageConverter(
            registry.client(), options, Path.of(System.getProperty("java.io.tmpdir")));
    EstargzImageConverter.Converted converted =
        converter.convert(ImageReference.parse(source), ImageReference.parse(destination));
    PrintWriter out = spec.commandLine().getOut();
    for (EstargzImageConverter.ConvertedLayer layer : converted.layers()) {
      out.printf(
          "layer %s (%d bytes) -> eStargz %s (%d bytes, TOC %s)%n",
          layer.source().digest().shortHex(),
          layer.source().size(),
          layer.estargz().digest().shortHex(),
          layer.estargz().size(),
          layer.estargz().annotationsOrEmpty().get(EstargzReader.TOC_DIGEST_ANNOTATION));
    }
    out.printf(
        "pushed %s (image manifest %s)%n", converted.destination(), converted.manifestDigest());
    out.flush();
    return 0;
  }
}
