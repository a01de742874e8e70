package dev.lazypull.fs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lazypull.fs.cache.SpanCache;
import dev.lazypull.fs.layer.BackgroundFetchPolicy;
import dev.lazypull.fs.layer.BackgroundPacer;
import dev.lazypull.fs.layer.EstargzLayer;
import dev.lazypull.fs.layer.FetchCounters;
import dev.lazypull.fs.layer.IndexedLayer;
import dev.lazypull.fs.layer.LayerReader;
import dev.lazypull.fs.layer.LocalLayer;
import dev.lazypull.fs.layer.RegistryBytes;
import dev.lazypull.fs.tree.FileNode;
import dev.lazypull.fs.tree.LayerEntry;
import dev.lazypull.fs.tree.LayerEntryException;
import dev.lazypull.fs.tree.MergedTree;
import dev.lazypull.fs.tree.MergedTreeBuilder;
import dev.lazypull.fs.tree.Node;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.OciJson;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.registry.ResolvedImage;
import dev.lazypull.soci.FoundIndex;
import dev.lazypull.soci.SociException;
import dev.lazypull.soci.SociIndexFinder;
import dev.lazypull.ztoc.Ztoc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An image made ready for a lazy mount: its SOCI index and zTOCs fetched, the layers too small for
 * a zTOC fetched whole (in parallel), and the merged tree built. Indexed layers' data is not
 * fetched here: reads fetch it, and so does the background fetcher once started.
 */
public final class LazyImage implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LazyImage.class);

  /**
   * How to open an image.
   *
   * @param cacheDir where spans and whole layers are kept
   * @param cacheBytes the span cache's size limit
   * @param readTimeout how long a read may wait for its bytes before it fails with EIO
   * @param explicitIndex an index digest the user trusts, or null to use the v2 annotation
   * @param allowV1 whether v1 indexes found through referrers may be used
   * @param allowUnverifiedToc whether a layer with neither a zTOC nor the TOC digest annotation is
   *     probed for an (e)stargz footer and mounted lazily through its unverified TOC
   *     (insecure-skip-verify)
   */
  public record Options(
      Path cacheDir,
      long cacheBytes,
      Duration readTimeout,
      @Nullable Digest explicitIndex,
      boolean allowV1,
      boolean allowUnverifiedToc) {

    /** Options that verify every TOC (layers without the annotation are fetched whole). */
    public Options(
        Path cacheDir,
        long cacheBytes,
        Duration readTimeout,
        @Nullable Digest explicitIndex,
        boolean allowV1) {
      this(cacheDir, cacheBytes, readTimeout, explicitIndex, allowV1, false);
    }
  }

  private final ResolvedImage image;
  private final JsonNode config;
  private final List<LayerReader> layers;
  private final MergedTree tree;
  private final FetchCounters counters;
  private final boolean indexed;
  private final SpanCache cache;
  private @Nullable Thread backgroundFetcher;

  private LazyImage(
      ResolvedImage image,
      JsonNode config,
      List<LayerReader> layers,
      MergedTree tree,
      FetchCounters counters,
      boolean indexed,
      SpanCache cache) {
    this.image = image;
    this.cache = cache;
    this.config = config;
    this.layers = layers;
    this.tree = tree;
    this.counters = counters;
    this.indexed = indexed;
  }

  /**
   * The config's diff ids, one per layer, or nulls when they do not parse or do not match the layer
   * count (the layers' own digests are still checked then).
   */
  private static List<@Nullable Digest> diffIds(JsonNode config, int layerCount) {
    JsonNode listed = config.path("rootfs").path("diff_ids");
    List<@Nullable Digest> diffIds = new ArrayList<>();
    for (int i = 0; i < layerCount; i++) {
      Digest diffId = null;
      if (listed.size() == layerCount) {
        try {
          diffId = Digest.parse(listed.get(i).asText());
        } catch (IllegalArgumentException e) {
          log.debug("diff id {} of {} does not parse: {}", i, config, e.getMessage());
        }
      }
      diffIds.add(diffId);
    }
    return diffIds;
  }

  /** Opens the image: index and metadata now, data of indexed layers on demand. */
  public static LazyImage open(RegistryClient client, ImageReference reference, Options options)
      throws IOException, RegistryException {
    ResolvedImage image = client.resolveManifest(reference);
    Descriptor configDescriptor = image.imageManifest().config();
    JsonNode config = OciJson.MAPPER.readTree(client.fetchBlobBytes(reference, configDescriptor));
    var finder = new SociIndexFinder(client);
    FoundIndex found = findIndex(finder, image, options);
    var counters = new FetchCounters();
    SpanCache cache = SpanCache.open(options.cacheDir().resolve("spans"), options.cacheBytes());
    List<Descriptor> descriptors = image.imageManifest().layers();
    List<Future<Opened>> pending = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(Math.min(4, descriptors.size() + 1))) {
      List<@Nullable Digest> diffIds = diffIds(config, descriptors.size());
      for (int i = 0; i < descriptors.size(); i++) {
        Descriptor layer = descriptors.get(i);
        Digest diffId = diffIds.get(i);
        pending.add(
            pool.submit(
                () ->
                    openLayer(
                        client, reference, finder, found, layer, diffId, cache, counters,
                        options)));
      }
      List<LayerReader> layers = new ArrayList<>();
      var builder = new MergedTreeBuilder();
      for (int i = 0; i < pending.size(); i++) {
        Opened opened = await(pending.get(i));
        layers.add(opened.reader());
        try {
          builder.addLayer(i, opened.entries());
        } catch (LayerEntryException e) {
          throw new IOException(
              "building the tree of "
                  + reference
                  + ": "
                  + e.getMessage()
                  + "; the layer cannot be mounted safely",
              e);
        }
      }
      boolean lazy = found != null || layers.stream().anyMatch(l -> l instanceof EstargzLayer);
      return new LazyImage(image, config, layers, builder.build(), counters, lazy, cache);
    }
  }

  private record Opened(LayerReader reader, List<LayerEntry> entries) {}

  private static @Nullable FoundIndex findIndex(
      SociIndexFinder finder, ResolvedImage image, Options options)
      throws IOException, RegistryException {
    try {
      return finder.find(image, options.explicitIndex(), options.allowV1());
    } catch (SociException e) {
      if (options.explicitIndex() != null) {
        throw e;
      }
      // The commands tell the user; the log keeps the reason for whoever reads it.
      log.info(
          "{} has no SOCI index, so its layers other than eStargz ones are fetched whole before"
              + " the mount ({}).",
          image.requested(),
          e.getMessage());
      return null;
    }
  }

  private static Opened openLayer(
      RegistryClient client,
      ImageReference reference,
      SociIndexFinder finder,
      @Nullable FoundIndex found,
      Descriptor layer,
      @Nullable Digest diffId,
      SpanCache cache,
      FetchCounters counters,
      Options options)
      throws IOException, RegistryException {
    String tocDigest = EstargzLayers.tocDigestOf(layer);
    if (tocDigest != null) {
      return openEstargz(client, reference, layer, tocDigest, cache, counters, options);
    }
    var ztocOfLayer =
        found == null
            ? Optional.<dev.lazypull.soci.LayerZtoc>empty()
            : found.forLayer(layer.digest());
    if (found != null && ztocOfLayer.isPresent()) {
      Ztoc ztoc = finder.fetchZtoc(found, ztocOfLayer.get());
      var bytes = new RegistryBytes(client, reference, layer, options.readTimeout());
      List<LayerEntry> entries = LayerEntries.of(ztoc);
      // The reader needs only the spans: the file list, the bulk of a big layer's zTOC (40 MB
      // for 200,000 files), is not kept for the life of the mount.
      return new Opened(
          new IndexedLayer(
              layer.digest(),
              diffId,
              ztoc.withoutFiles(),
              bytes,
              cache,
              counters,
              options.readTimeout()),
          entries);
    }
    if (options.allowUnverifiedToc()) {
      var unverified =
          EstargzLayers.openUnverified(
              client, reference, layer, cache, counters, options.readTimeout());
      if (unverified != null) {
        return new Opened(unverified.layer(), unverified.entries());
      }
    }
    var whole =
        WholeLayers.fetch(
            client,
            reference,
            layer,
            options.cacheDir().resolve("layers"),
            !options.allowUnverifiedToc());
    return new Opened(whole.layer(), LayerEntries.of(whole.toc()));
  }

  /** An eStargz layer (it carries the TOC digest annotation), opened lazily. */
  private static Opened openEstargz(
      RegistryClient client,
      ImageReference reference,
      Descriptor layer,
      String tocDigest,
      SpanCache cache,
      FetchCounters counters,
      Options options)
      throws IOException {
    EstargzLayer estargz =
        EstargzLayers.open(
            client, reference, layer, tocDigest, cache, counters, options.readTimeout());
    return new Opened(estargz, EstargzEntries.of(estargz));
  }

  private static Opened await(Future<Opened> future) throws IOException, RegistryException {
    try {
      return future.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      switch (cause) {
        case IOException io -> throw io;
        case RegistryException r -> throw r;
        case RuntimeException r -> throw r;
        case null, default -> throw new IOException(cause);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while opening the image");
    }
  }

  public ResolvedImage image() {
    return image;
  }

  /** The image config JSON. */
  public JsonNode config() {
    return config;
  }

  public MergedTree tree() {
    return tree;
  }

  public List<LayerReader> layers() {
    return layers;
  }

  public FetchCounters counters() {
    return counters;
  }

  /** Whether the image had a SOCI index or eStargz layers (else every layer was fetched whole). */
  public boolean indexed() {
    return indexed;
  }

  /** The compressed size of the image: its layers, config and manifest. */
  public long compressedSize() {
    long size = image.manifest().size() + image.imageManifest().config().size();
    for (Descriptor layer : image.imageManifest().layers()) {
      size += layer.size();
    }
    return size;
  }

  /**
   * Reads a small file of the image by path, resolved inside the image root; null if the path is
   * not a regular file. For {@code /etc/passwd} lookups and the like.
   */
  public byte @Nullable [] readFile(String path) throws IOException {
    Node node = tree.resolve(path.getBytes(java.nio.charset.StandardCharsets.UTF_8), true);
    if (!(node instanceof FileNode file) || file.size() > (16 << 20)) {
      return null;
    }
    ByteBuffer buffer = ByteBuffer.allocate((int) file.size());
    layers.get(file.layerIndex()).read(file.uncompressedOffset(), buffer);
    return buffer.array();
  }

  /**
   * Starts pulling the rest of every lazily read layer in the background, paced by {@code policy}
   * and yielding to on-demand reads, and checking each whole zTOC layer's digest when it is
   * complete (eStargz layers: each chunk's digest, see {@link EstargzLayer#fetchAllInBackground}).
   */
  public synchronized void startBackgroundFetch(BackgroundFetchPolicy policy) {
    if (backgroundFetcher != null) {
      return;
    }
    BackgroundPacer pacer = policy.pacer();
    backgroundFetcher =
        Thread.ofPlatform()
            .name("background-fetch")
            .daemon()
            .start(
                () -> {
                  for (LayerReader layer : layers) {
                    BackgroundFetch.fetch(layer, pacer);
                  }
                });
  }

  @Override
  public synchronized void close() throws IOException {
    if (backgroundFetcher != null) {
      backgroundFetcher.interrupt();
    }
    for (LayerReader layer : layers) {
      if (layer instanceof LocalLayer local) {
        local.close();
      }
    }
    cache.close(); // its open span files, so that a cache directory can be unmounted
  }
}
