package dev.lazypull.snapshotter;

import dev.lazypull.fs.LazyLayer;
import dev.lazypull.fs.cache.SpanCache;
import dev.lazypull.fs.layer.BackgroundFetchPolicy;
import dev.lazypull.fs.layer.BackgroundPacer;
import dev.lazypull.fs.layer.FetchCounters;
import dev.lazypull.fuse.FuseMount;
import dev.lazypull.fuse.MountOptions;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.registry.ResolvedImage;
import dev.lazypull.soci.FoundIndex;
import dev.lazypull.soci.SociException;
import dev.lazypull.soci.SociIndexFinder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mounts single image layers lazily (FUSE) for remote snapshots, using the labels containerd's CRI
 * plugin (or {@code lazypull pull}) puts on Prepare. An image's SOCI index is looked up once per
 * image reference and remembered, also when there is none. eStargz layers (the {@code
 * containerd.io/snapshot/stargz/toc.digest} annotation on the manifest's layer) are mounted lazily
 * through their own TOC, with or without a SOCI index.
 */
public final class RemoteLayerMounter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RemoteLayerMounter.class);

  private final RegistryClient client;
  private final SociIndexFinder finder;
  private final SpanCache cache;
  private final FetchCounters counters = new FetchCounters();
  private final Path wholeLayersDir;
  private final Duration readTimeout;
  private final Map<String, Optional<FoundIndex>> indexes = new ConcurrentHashMap<>();
  private final Map<String, ResolvedImage> manifests = new ConcurrentHashMap<>();
  private final Map<Path, Mounted> mounts = new ConcurrentHashMap<>();
  private volatile boolean allowUnverifiedToc;

  private final Map<Path, Future<?>> backgroundFetches = new ConcurrentHashMap<>();

  /**
   * One thread pulls the rest of the mounted lazy layers, one layer after another: all layers share
   * the registry link, and a layer fetched whole sooner is worth more than many half done.
   */
  private final ExecutorService backgroundFetcher =
      Executors.newSingleThreadExecutor(
          Thread.ofPlatform().name("background-fetch").daemon().factory());

  private volatile @Nullable BackgroundFetchPolicy backgroundPolicy;

  private record Mounted(LazyLayer layer, FuseMount mount) {}

  /** A layer the registry should serve lazily: the labels of one Prepare. */
  public record LayerRequest(ImageReference image, Digest layerDigest) {
    /** The request the labels describe, or empty when they do not name an image layer. */
    static Optional<LayerRequest> of(Map<String, String> labels) {
      String image = labels.get(SnapshotLabels.IMAGE_REF);
      String layer = labels.get(SnapshotLabels.LAYER_DIGEST);
      if (image == null || layer == null || !labels.containsKey(SnapshotLabels.TARGET_REF)) {
        return Optional.empty();
      }
      try {
        return Optional.of(new LayerRequest(ImageReference.parse(image), Digest.parse(layer)));
      } catch (IllegalArgumentException e) {
        log.warn("ignoring unparsable remote-layer labels {} {}: {}", image, layer, e.getMessage());
        return Optional.empty();
      }
    }
  }

  /**
   * @param cacheDir where fetched spans and whole small layers are kept
   * @param cacheBytes the span cache's size limit
   */
  public RemoteLayerMounter(
      RegistryClient client, Path cacheDir, long cacheBytes, Duration readTimeout)
      throws IOException {
    this.client = client;
    this.finder = new SociIndexFinder(client);
    this.cache = SpanCache.open(cacheDir.resolve("spans"), cacheBytes);
    this.wholeLayersDir = cacheDir.resolve("layers");
    this.readTimeout = readTimeout;
  }

  /** Pulls the rest of every lazy layer mounted from now on in the background, paced by policy. */
  public void enableBackgroundFetch(BackgroundFetchPolicy policy) {
    backgroundPolicy = policy;
  }

  /**
   * Mounts layers that have neither a zTOC nor the TOC digest annotation lazily when they end with
   * an (e)stargz footer, through their unverified TOC (config {@code [estargz]
   * allow_no_verification}; insecure).
   */
  public void allowUnverifiedToc(boolean allow) {
    this.allowUnverifiedToc = allow;
  }

  /**
   * Mounts the requested layer at {@code mountPoint}; false when the layer is not eStargz (nor,
   * with unverified TOCs allowed, ends with a stargz footer) and the image has no SOCI index (the
   * caller then prepares a plain snapshot and containerd downloads the layer).
   */
  public boolean mount(LayerRequest request, Path mountPoint)
      throws IOException, RegistryException {
    long startNanos = System.nanoTime();
    Optional<FoundIndex> found = index(request.image());
    ResolvedImage image =
        found.isPresent() ? found.get().image() : manifestWithoutIndex(request.image());
    Descriptor layer =
        image.imageManifest().layers().stream()
            .filter(d -> d.digest().equals(request.layerDigest()))
            .findFirst()
            .orElseThrow(
                () ->
                    new IOException(
                        "layer "
                            + request.layerDigest()
                            + " is not in the manifest of "
                            + request.image()
                            + "; was the tag moved? pull again"));
    LazyLayer lazyLayer;
    if (LazyLayer.isEstargz(layer)) {
      // The layer carries its own index (the TOC), whether or not the image has a SOCI index.
      lazyLayer =
          LazyLayer.openEstargz(client, request.image(), layer, cache, counters, readTimeout);
    } else if (found.isPresent()) {
      lazyLayer =
          LazyLayer.open(
              client,
              request.image(),
              finder,
              found.get(),
              layer,
              cache,
              counters,
              wholeLayersDir,
              readTimeout,
              allowUnverifiedToc);
    } else {
      LazyLayer unverified =
          allowUnverifiedToc
              ? LazyLayer.openUnverifiedEstargz(
                  client, request.image(), layer, cache, counters, readTimeout)
              : null;
      if (unverified == null) {
        return false;
      }
      lazyLayer = unverified;
    }
    FuseMount mount;
    try {
      mount =
          FuseMount.mount(
              mountPoint,
              lazyLayer.filesystem(),
              MountOptions.defaults("lazypull:" + layer.digest(), "lazypull").withWorkers(2));
    } catch (IOException e) {
      lazyLayer.close();
      throw e;
    }
    mounts.put(mountPoint, new Mounted(lazyLayer, mount));
    BackgroundFetchPolicy policy = backgroundPolicy;
    if (policy != null && lazyLayer.lazy()) {
      // The pacer's start delay counts from the mount, not from when the queue reaches the layer.
      BackgroundPacer pacer = policy.pacer();
      backgroundFetches.put(
          mountPoint, backgroundFetcher.submit(() -> lazyLayer.fetchRestInBackground(pacer)));
    }
    long millis = (System.nanoTime() - startNanos) / 1_000_000;
    log.atInfo()
        .addKeyValue("layer", layer.digest())
        .addKeyValue("image", request.image())
        .addKeyValue("mountpoint", mountPoint)
        .addKeyValue("lazy", lazyLayer.lazy())
        .addKeyValue("millis", millis)
        .log(
            "layer {} of {} mounted at {} ({}) in {} ms",
            layer.digest(),
            request.image(),
            mountPoint,
            lazyLayer.lazy() ? "lazily" : "fetched whole: no zTOC",
            millis);
    return true;
  }

  /** Unmounts what is mounted at {@code mountPoint}, detaching lazily when it is busy. */
  public void unmount(Path mountPoint) throws IOException {
    Future<?> fetching = backgroundFetches.remove(mountPoint);
    if (fetching != null) {
      fetching.cancel(true);
    }
    Mounted mounted = mounts.remove(mountPoint);
    if (mounted == null) {
      FuseMount.detachDeadMount(mountPoint);
      return;
    }
    try {
      mounted.mount().close();
    } catch (IOException e) {
      log.info("{} is busy ({}); detaching it lazily", mountPoint, e.getMessage());
      mounted.mount().detach();
    } finally {
      mounted.layer().close();
    }
  }

  public int mountedCount() {
    return mounts.size();
  }

  public boolean isMounted(Path mountPoint) {
    return mounts.containsKey(mountPoint);
  }

  public FetchCounters counters() {
    return counters;
  }

  /** The manifest of an image without a SOCI index, looked up once: it may have eStargz layers. */
  private ResolvedImage manifestWithoutIndex(ImageReference image)
      throws IOException, RegistryException {
    ResolvedImage known = manifests.get(image.toString());
    if (known != null) {
      return known;
    }
    ResolvedImage resolved = client.resolveManifest(image);
    manifests.put(image.toString(), resolved);
    return resolved;
  }

  private Optional<FoundIndex> index(ImageReference image) throws IOException, RegistryException {
    Optional<FoundIndex> known = indexes.get(image.toString());
    if (known != null) {
      return known;
    }
    Optional<FoundIndex> found;
    try {
      found = Optional.of(finder.find(image, null, false));
    } catch (SociException e) {
      log.info(
          "{} has no SOCI index; containerd will download its layers ({})", image, e.getMessage());
      found = Optional.empty();
    }
    indexes.put(image.toString(), found);
    return found;
  }

  /** Unmounts every layer (detaching busy ones). */
  @Override
  public void close() {
    backgroundFetcher.shutdownNow();
    for (Path mountPoint : mounts.keySet()) {
      try {
        unmount(mountPoint);
      } catch (IOException e) {
        log.warn("unmounting {} failed: {}", mountPoint, e.getMessage());
      }
    }
  }
}
