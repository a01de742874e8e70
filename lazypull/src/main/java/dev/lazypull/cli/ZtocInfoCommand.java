package dev.lazypull.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.ztoc.ByteText;
import dev.lazypull.ztoc.FileMetadata;
import dev.lazypull.ztoc.Span;
import dev.lazypull.ztoc.Ztoc;
import dev.lazypull.ztoc.ZtocCodec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lazypull ztoc info FILE [--json]}: shows a zTOC's spans and files. */
@Command(
    name = "info",
    mixinStandardHelpOptions = true,
    description = "Show a zTOC: sizes, spans with their ranges and digests, files.")
public final class ZtocInfoCommand implements Callable<Integer>, CommandFailure.Action {

  @Spec CommandSpec spec;

  @Mixin RegistryOptionsMixin registry;

  @Mixin ImageLayerOptions fromImage;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "ZTOC_FILE",
      description = "A zTOC file; or give --image and --layer.")
  @Nullable Path file;

  @Option(
      names = "--json",
      description =
          "Print JSON instead of text. Names, link targets and PAX values that are not UTF-8"
              + " (or that start with hex:) show as hex: and their bytes in hex.")
  boolean json;

  @Override
  public String action() {
    return "ztoc info " + (file != null ? file : fromImage.image + " " + fromImage.layer);
  }

  @Override
  public Integer call() throws IOException, RegistryException {
    Ztoc ztoc = load();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out, describe(ztoc));
      out.println();
    } else {
      printText(ztoc, out);
    }
    out.flush();
    return 0;
  }

  private Ztoc load() throws IOException, RegistryException {
    Path local = file;
    if (local != null && !fromImage.used()) {
      return ZtocCodec.decode(Files.readAllBytes(local), local.toString());
    }
    if (local != null) {
      throw new ParameterException(spec.commandLine(), "give a ZTOC_FILE or --image, not both");
    }
    fromImage.check(spec);
    ImageLayerOptions.Loaded loaded = fromImage.load(registry.client());
    spec.commandLine()
        .getErr()
        .printf(
            "zTOC %s of layer %s (SOCI index %s)%n",
            loaded.layer().ztoc().digest(),
            loaded.layer().layer().digest(),
            loaded.found().index().digest());
    spec.commandLine().getErr().flush();
    return loaded.ztoc();
  }

  static Map<String, Object> describe(Ztoc ztoc) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("version", ztoc.version());
    root.put("build_tool_identifier", ztoc.buildToolIdentifier());
    root.put("compressed_archive_size", ztoc.compressedArchiveSize());
    root.put("uncompressed_archive_size", ztoc.uncompressedArchiveSize());
    root.put("compression_algorithm", ztoc.compressionInfo().algorithm().name().toLowerCase());
    root.put("span_size", ztoc.compressionInfo().layout().spanSize());
    root.put("spans", ztoc.spans().stream().map(ZtocInfoCommand::describe).toList());
    root.put("files", ztoc.files().stream().map(f -> describe(ztoc, f)).toList());
    return root;
  }

  private static Map<String, Object> describe(Span span) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", span.id());
    m.put("compressed_start", span.compressedStart());
    m.put("compressed_end", span.compressedEnd());
    m.put("uncompressed_start", span.uncompressedStart());
    m.put("uncompressed_end", span.uncompressedEnd());
    m.put("digest", span.digest().toString());
    return m;
  }

  private static Map<String, Object> describe(Ztoc ztoc, FileMetadata f) {
    Map<String, Object> m = new LinkedHashMap<>();
    // Names are bytes; JSON holds text, so names that are not UTF-8 show as hex: escapes.
    m.put("name", ByteText.textOrHex(f.nameBytes()));
    m.put("path", ByteText.textOrHex(slashed(f.pathBytes())));
    m.put("type", f.type().ztocName());
    m.put("uncompressed_offset", f.uncompressedOffset());
    m.put("uncompressed_size", f.uncompressedSize());
    if (f.hasLinkName()) {
      m.put("linkname", ByteText.textOrHex(f.linkNameBytes()));
    }
    m.put("mode", "0" + Long.toOctalString(f.mode()));
    m.put("uid", f.uid());
    m.put("gid", f.gid());
    m.put("mod_time", f.modTime());
    if (f.devMajor() != 0 || f.devMinor() != 0) {
      m.put("devmajor", f.devMajor());
      m.put("devminor", f.devMinor());
    }
    if (!f.xattrs().isEmpty()) {
      Map<String, String> xattrs = new LinkedHashMap<>();
      f.xattrs().forEach(x -> xattrs.put(x.key(), x.valueText()));
      m.put("pax_records", xattrs);
    }
    m.put("spans", spansOf(ztoc, f));
    return m;
  }

  private static byte[] slashed(byte[] path) {
    byte[] withSlash = new byte[path.length + 1];
    withSlash[0] = '/';
    System.arraycopy(path, 0, withSlash, 1, path.length);
    return withSlash;
  }

  private static List<Integer> spansOf(Ztoc ztoc, FileMetadata f) {
    if (f.uncompressedSize() == 0) {
      return List.of();
    }
    int first = ztoc.spanOf(f.uncompressedOffset());
    int last = ztoc.spanOf(f.uncompressedEnd() - 1);
    return java.util.stream.IntStream.rangeClosed(first, last).boxed().toList();
  }

  private static void printText(Ztoc ztoc, PrintWriter out) {
    out.printf("version:            %s%n", ztoc.version());
    out.printf("build tool:         %s%n", ztoc.buildToolIdentifier());
    out.printf("compression:        %s%n", ztoc.compressionInfo().algorithm().name().toLowerCase());
    out.printf("compressed size:    %d%n", ztoc.compressedArchiveSize());
    out.printf("uncompressed size:  %d%n", ztoc.uncompressedArchiveSize());
    out.printf("span size:          %d%n", ztoc.compressionInfo().layout().spanSize());
    out.printf("spans:              %d%n", ztoc.spanCount());
    out.printf("%5s  %-25s  %-25s  %s%n", "SPAN", "COMPRESSED", "UNCOMPRESSED", "DIGEST");
    for (Span s : ztoc.spans()) {
      out.printf(
          "%5d  %-25s  %-25s  %s%n",
          s.id(),
          "[" + s.compressedStart() + "," + s.compressedEnd() + ")",
          "[" + s.uncompressedStart() + "," + s.uncompressedEnd() + ")",
          s.digest());
    }
    out.printf("files:              %d%n", ztoc.files().size());
    out.printf("%-8s %7s %12s %12s %-9s %s%n", "TYPE", "MODE", "OFFSET", "SIZE", "SPANS", "PATH");
    for (FileMetadata f : ztoc.files()) {
      List<Integer> spans = spansOf(ztoc, f);
      String spanText =
          spans.isEmpty()
              ? "-"
              : spans.size() == 1
                  ? "" + spans.getFirst()
                  : spans.getFirst() + "-" + spans.getLast();
      // Text output is for people: names that are not UTF-8 show U+FFFD (--json is exact).
      String link = f.hasLinkName() ? " -> " + f.linkName() : "";
      out.printf(
          "%-8s %7s %12d %12d %-9s /%s%s%n",
          f.type().ztocName(),
          Long.toOctalString(f.mode() & 07777),
          f.uncompressedOffset(),
          f.uncompressedSize(),
          spanText,
          f.path(),
          link);
    }
  }
}
