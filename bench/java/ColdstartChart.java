import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Draws bench/coldstart's bar chart: time to ready per image (groups) and variant (bars), on
 * a log scale, with the computed floor as one more bar.
 *
 * <p>Usage: java -cp XCHART_CLASSPATH ColdstartChart.java MEDIANS.tsv OUT.png TITLE. The TSV has
 * lines "image TAB variant TAB seconds"; a missing or non-numeric figure leaves a gap.
 */
final class ColdstartChart {
  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: java ColdstartChart.java MEDIANS.tsv OUT.png TITLE");
      System.exit(2);
    }
    Set<String> images = new LinkedHashSet<>();
    Map<String, Map<String, Double>> secondsByVariant = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of(args[0]))) {
      String[] fields = line.split("\t");
      if (fields.length != 3) {
        continue;
      }
      images.add(fields[0]);
      Double seconds = parse(fields[2]);
      secondsByVariant.computeIfAbsent(fields[1], v -> new LinkedHashMap<>());
      if (seconds != null) {
        secondsByVariant.get(fields[1]).put(fields[0], seconds);
      }
    }
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(1100)
            .height(560)
            .title(args[2])
            .xAxisTitle("image")
            .yAxisTitle("seconds to ready (log scale, median)")
            .build();
    chart.getStyler().setYAxisLogarithmic(true);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setLabelsVisible(false);
    chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    List<String> imageList = new ArrayList<>(images);
    for (var variant : secondsByVariant.entrySet()) {
      List<Double> values = new ArrayList<>();
      for (String image : imageList) {
        // A log axis cannot show zero or a gap: a missing figure is drawn as a tiny bar.
        values.add(variant.getValue().getOrDefault(image, 0.001));
      }
      chart.addSeries(variant.getKey(), imageList, values);
    }
    chart.getStyler().setYAxisMin(0.1);
    BitmapEncoder.saveBitmap(chart, args[1], BitmapEncoder.BitmapFormat.PNG);
  }

  private static Double parse(String text) {
    try {
      return Double.parseDouble(text);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
