package dev.lazypull.estargz.image;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lazypull.estargz.EstargzReader;
import dev.lazypull.estargz.EstargzWriter;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.ImageManifest;
import dev.lazypull.oci.MediaTypes;
import dev.lazypull.oci.OciJson;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.registry.RequestBody;
import dev.lazypull.registry.ResolvedImage;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converts one platform's image to eStargz: each layer is fetched, unpacked to a temporary tar,
 * rewritten as eStargz and pushed with its {@code toc.digest} and uncompressed-size annotations;
 * then the config with the new diff ids, the manifest by digest, and the tag last, so that a failed
 * conversion leaves every tag as it was.
 */
public final class EstargzImageConverter {
  private static final Logger log = LoggerFactory.getLogger(EstargzImageConverter.class);

  private final RegistryClient client;
  private final EstargzWriter.Options options;
  private final Path workDir;

  /**
   * @param workDir where the temporary layer files go (deleted as each layer is pushed)
   */
  public EstargzImageConverter(RegistryClient client, EstargzWriter.Options options, Path workDir) {
    this.client = client;
    this.options = options;
    this.workDir = workDir;
  }

  /** One converted layer: its new descriptor and sizes for the report. */
  public record ConvertedLayer(
      Descriptor source, Descriptor estargz, Digest diffId, long uncompressedSize) {}

  /** The pushed image. */
  public record Converted(
      ImageReference destination, Digest manifestDigest, List<ConvertedLayer> layers) {}

  /** Converts {@code source} (the client's platform) and tags the result as {@code destination}. */
  public Converted convert(ImageReference source, ImageReference destination)
      throws IOException, RegistryException {
    if (destination.tag() == null || destination.digest() != null) {
      throw new IllegalArgumentException(
          "converting "
              + source
              + ": the destination "
              + destination
              + " must name a tag and no digest, e.g. "
              + destination.repository()
              + ":estargz");
    }
    ResolvedImage image = client.resolveManifest(source);
    ImageManifest manifest = image.imageManifest();
    Path dir = Files.createTempDirectory(Files.createDirectories(workDir), "estargz-convert-");
    try {
      List<ConvertedLayer> layers = new ArrayList<>();
      for (Descriptor layer : manifest.layers()) {
        layers.add(convertLayer(source, destination, layer, dir));
      }
      Descriptor config = pushConfig(source, destination, manifest.config(), layers);
      ImageManifest converted =
          new ImageManifest(
              2,
              MediaTypes.OCI_MANIFEST,
              null,
              config,
              layers.stream().map(ConvertedLayer::estargz).toList(),
              null,
              manifest.annotations(),
              Map.of());
      byte[] bytes = OciJson.write(converted);
      Digest digest = Digest.sha256(bytes);
      client.pushManifest(destination.withDigest(digest), MediaTypes.OCI_MANIFEST, bytes);
      client.pushManifest(destination, MediaTypes.OCI_MANIFEST, bytes);
      log.info("converted {} to eStargz {} ({})", source, destination, digest);
      return new Converted(destination, digest, layers);
    } finally {
      deleteTree(dir);
    }
  }

  private ConvertedLayer convertLayer(
      ImageReference source, ImageReference destination, Descriptor layer, Path dir)
      throws IOException, RegistryException {
    Path blob = dir.resolve(layer.digest().hex() + ".blob");
    Path tar = dir.resolve(layer.digest().hex() + ".tar");
    Path estargz = dir.resolve(layer.digest().hex() + ".esgz");
    try {
      client.fetchBlob(source, layer, blob);
      unpack(blob, tar, layer);
      Files.delete(blob);
      EstargzWriter.Result result;
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(estargz), 1 << 16)) {
        result = new EstargzWriter(options).write(tar, out);
      } catch (IOException e) {
        throw new IOException(
            "converting layer "
                + layer.digest()
                + " of "
                + source
                + " to eStargz: "
                + e.getMessage(),
            e);
      }
      Files.delete(tar);
      Map<String, String> annotations = new LinkedHashMap<>();
      annotations.put(EstargzReader.TOC_DIGEST_ANNOTATION, result.tocDigest().toString());
      annotations.put(
          EstargzReader.UNCOMPRESSED_SIZE_ANNOTATION, Long.toString(result.uncompressedSize()));
      Descriptor descriptor =
          new Descriptor(
              MediaTypes.OCI_LAYER_GZIP,
              result.digest(),
              result.size(),
              null,
              annotations,
              null,
              null);
      client.pushBlob(destination, descriptor, RequestBody.ofFile(estargz, 0, result.size()), null);
      log.info(
          "layer {} -> eStargz {} ({} -> {} bytes)",
          layer.digest(),
          result.digest(),
          layer.size(),
          result.size());
      return new ConvertedLayer(layer, descriptor, result.diffId(), result.uncompressedSize());
    } finally {
      Files.deleteIfExists(blob);
      Files.deleteIfExists(tar);
      Files.deleteIfExists(estargz);
    }
  }

  /** The source config with {@code rootfs.diff_ids} replaced by the eStargz layers' diff ids. */
  private Descriptor pushConfig(
      ImageReference source,
      ImageReference destination,
      Descriptor sourceConfig,
      List<ConvertedLayer> layers)
      throws IOException, RegistryException {
    var config = (ObjectNode) OciJson.MAPPER.readTree(client.fetchBlobBytes(source, sourceConfig));
    ObjectNode rootfs = config.withObject("/rootfs");
    rootfs.put("type", "layers");
    ArrayNode diffIds = rootfs.putArray("diff_ids");
    for (ConvertedLayer layer : layers) {
      diffIds.add(layer.diffId().toString());
    }
    byte[] bytes = OciJson.MAPPER.writeValueAsBytes(config);
    Descriptor descriptor =
        Descriptor.of(MediaTypes.OCI_CONFIG, Digest.sha256(bytes), bytes.length);
    client.pushBlob(destination, descriptor, RequestBody.of(bytes), null);
    return descriptor;
  }

  private static void unpack(Path blob, Path tar, Descriptor layer) throws IOException {
    if (layer.mediaType().equals(MediaTypes.OCI_LAYER_ZSTD)) {
      throw new IOException(
          "layer " + layer.digest() + " is zstd-compressed, which lazypull cannot convert yet");
    }
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(blob), 1 << 16);
        OutputStream out = Files.newOutputStream(tar)) {
      raw.mark(2);
      boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
      raw.reset();
      // GZIPInputStream reads concatenated members, so eStargz sources unpack too.
      try (InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw) {
        in.transferTo(out);
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      log.warn("could not remove temporary directory {}: {}", dir, e.getMessage());
    }
  }
}
