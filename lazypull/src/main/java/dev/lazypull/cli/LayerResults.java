package dev.lazypull.cli;

import dev.lazypull.soci.LayerIndexResult;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Prints what indexing did with each layer, as a table or as JSON-ready maps. */
final class LayerResults {
  private LayerResults() {}

  static void print(List<LayerIndexResult> layers, PrintWriter out, PrintWriter err) {
    out.printf("  %-19s %12s  %s%n", "LAYER", "SIZE", "ZTOC");
    for (LayerIndexResult r : layers) {
      String what =
          switch (r) {
            case LayerIndexResult.Indexed i ->
                i.descriptor().digest()
                    + " ("
                    + i.ztoc().spanCount()
                    + " spans, "
                    + i.ztoc().files().size()
                    + " files, "
                    + i.bytes().length
                    + " bytes)";
            case LayerIndexResult.Skipped s -> "none: " + s.reason();
          };
      out.printf("  %-19s %12d  %s%n", r.layer().digest().shortHex(), r.layer().size(), what);
      if (r instanceof LayerIndexResult.Skipped s && s.warn()) {
        err.println("warning: layer " + r.layer().digest() + " gets no zTOC: " + s.reason());
      }
    }
  }

  static List<Map<String, Object>> describe(List<LayerIndexResult> layers) {
    return layers.stream().map(LayerResults::describe).toList();
  }

  private static Map<String, Object> describe(LayerIndexResult r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("layer", r.layer().digest().toString());
    m.put("size", r.layer().size());
    m.put("media_type", r.layer().mediaType());
    switch (r) {
      case LayerIndexResult.Indexed i -> {
        m.put("ztoc", i.descriptor().digest().toString());
        m.put("ztoc_size", i.bytes().length);
        m.put("spans", i.ztoc().spanCount());
        m.put("files", i.ztoc().files().size());
      }
      case LayerIndexResult.Skipped s -> m.put("skipped", s.reason());
    }
    return m;
  }
}
