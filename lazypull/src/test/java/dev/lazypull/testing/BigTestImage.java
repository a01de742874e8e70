package dev.lazypull.testing;

import dev.lazypull.cli.Main;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.Deflater;

/**
 * An image of large files whose content the test keeps, for load and crash tests: every other file
 * is random (incompressible), the rest text-like; the files are spread over the layers. Pushed to a
 * registry and converted with a given span size, indexing every layer.
 */
public final class BigTestImage {
  private final Map<String, byte[]> files = new LinkedHashMap<>();
  private final List<List<String>> layerFiles = new ArrayList<>();

  private BigTestImage() {}

  /** {@code layers} layers of {@code filesPerLayer} files of {@code fileSize} bytes each. */
  public static BigTestImage of(int layers, int filesPerLayer, int fileSize, long seed) {
    var image = new BigTestImage();
    for (int layer = 0; layer < layers; layer++) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < filesPerLayer; i++) {
        String name = "data/l" + layer + "-f" + i;
        long fileSeed = seed * 1000 + layer * 100L + i;
        image.files.put(
            name,
            i % 2 == 0
                ? TestLayers.randomBytes(fileSeed, fileSize)
                : TestLayers.textBytes(fileSeed, fileSize));
        names.add(name);
      }
      image.layerFiles.add(names);
    }
    return image;
  }

  /** File path inside the image to its content. */
  public Map<String, byte[]> files() {
    return files;
  }

  public long totalBytes() {
    return files.values().stream().mapToLong(b -> b.length).sum();
  }

  /**
   * Pushes the image as {@code repository:src} and converts it to {@code repository:soci} with
   * spans of {@code spanSize} bytes; returns the converted reference.
   */
  public ImageReference pushAndConvert(LocalRegistry registry, String repository, int spanSize)
      throws Exception {
    List<byte[]> layers = new ArrayList<>();
    for (List<String> names : layerFiles) {
      var tar = TestLayers.tar().dir("data/");
      for (String name : names) {
        tar.file(name, files.get(name));
      }
      // Level 1: the test's time goes to reading, not to making the image.
      layers.add(TestLayers.gzip(tar.build().bytes(), Deflater.BEST_SPEED));
    }
    ImageReference source = registry.reference(repository + ":src");
    ImageReference converted = registry.reference(repository + ":soci");
    TestImage.push(RegistryClient.create(RegistryOptions.defaults()), source, layers);
    int code =
        Main.newCommandLine()
            .execute(
                "convert",
                "--span-size",
                Integer.toString(spanSize),
                "--min-layer-size",
                "0",
                source.toString(),
                converted.toString());
    if (code != 0) {
      throw new IllegalStateException("lazypull convert of " + source + " exited with " + code);
    }
    return converted;
  }
}
