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
  private volatile @Nullable FdHolderClient holder;
  private volatile boolean allowUnverifiedToc;

  /** How long a stopping daemon lets its FUSE workers finish the requests they have read. */
  static final Duration DRAIN_BOUND = Duration.ofSeconds(10);

  private static final String SUBTYPE = "lazypull";
  private static final int WORKERS = 2;

  /**
   * @param held true while the {@link FdHolder} keeps a descriptor of the mount's connection, so
   *     that stopping the daemon hands the mount over instead of unmounting it
   */
  private record Mounted(LazyLayer layer, FuseMount mount, boolean held) {}

  private final Map<Path, Future<?>> backgroundFetches = new ConcurrentHashMap<>();

  /**
   * Layers opened ahead of their Prepare. containerd prepares an image's layers one after another,
   * each after its parent is committed, so the next layers' metadata (zTOC fetch, tree build) is
   * opened while the current one mounts, instead of one layer at a time on the pull's path.
   */
  private final Map<String, OpenedAhead> ahead = new ConcurrentHashMap<>();

  private final ExecutorService aheadOpener =
      Executors.newFixedThreadPool(
          2, Thread.ofPlatform().name("layer-open-ahead").daemon().factory());

  /** What a layer opened ahead turned out to be: empty when it is not served lazily. */
  private record Taken(Optional<LazyLayer> layer) {}

  /** An opened-ahead layer: empty when the layer is not served lazily (a plain Prepare). */
  private record OpenedAhead(Future<Optional<LazyLayer>> layer, long openedAtNanos) {}

  /** Opened-ahead layers no Prepare took within this time are closed (an abandoned pull). */
  private static final Duration AHEAD_KEPT = Duration.ofMinutes(5);

  /**
   * One thread pulls the rest of the mounted lazy layers, one layer after another: all layers share
   * the registry link, and a layer fetched whole sooner is worth more than many half done.
   */
  private final ExecutorService backgroundFetcher =
      Executors.newSingleThreadExecutor(
          Thread.ofPlatform().name("background-fetch").daemon().factory());

  private volatile @Nullable BackgroundFetchPolicy backgroundPolicy;

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
   * Keeps the FUSE connections of the layers mounted from now on in {@code fdHolder}, so that they
   * outlive this process: the next daemon serves them again instead of mounting anew. Closing this
   * mounter then hands held mounts over instead of unmounting them. The mounter closes {@code
   * fdHolder}.
   */
  public void useFdHolder(FdHolderClient fdHolder) {
    this.holder = fdHolder;
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
   * caller then prepares a plain snapshot and containerd downloads the layer). When the fd holder
   * keeps the connection of a live mount of this layer there (an earlier daemon's), that mount is
   * served again, as it is, instead.
   */
  public boolean mount(LayerRequest request, Path mountPoint)
      throws IOException, RegistryException {
    Optional<FdHolderClient.HeldFd> held = heldConnection(mountPoint);
    try {
      boolean mounted = mount(request, mountPoint, held);
      held = Optional.empty(); // the mount owns it now
      return mounted;
    } finally {
      // Not served again (no index any more, registry down, another layer...): end the held
      // connection now, so that its readers get an error instead of waiting for a server.
      held.ifPresent(h -> abandon(mountPoint, h, "the layer could not be served again"));
    }
  }

  private boolean mount(LayerRequest request, Path mountPoint, Optional<FdHolderClient.HeldFd> held)
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
    openAhead(request.image(), found, image, layer);
    Taken taken = takeAhead(request.image(), layer);
    Optional<LazyLayer> opened =
        taken != null ? taken.layer() : openLayer(request.image(), found, layer);
    if (opened.isEmpty()) {
      return false;
    }
    LazyLayer lazyLayer = opened.get();
    FuseMount mount;
    boolean resumed = false;
    boolean kept = false;
    try {
      if (held.isPresent() && resumable(mountPoint, layer.digest(), lazyLayer, held.get())) {
        int maxWrite = maxWriteOf(held.get().meta());
        mount =
            FuseMount.resume(
                mountPoint, held.get().fd(), lazyLayer.filesystem(), options(layer, maxWrite));
        resumed = true;
        kept = true; // the holder still keeps its own descriptor
      } else {
        held.ifPresent(h -> abandon(mountPoint, h, "it is not the live mount of this layer"));
        detachUnserved(mountPoint);
        mount = FuseMount.mount(mountPoint, lazyLayer.filesystem(), options(layer, 1 << 20));
        kept = keep(mountPoint, mount, describe(layer.digest(), lazyLayer, mount.maxWrite()));
      }
    } catch (IOException | RuntimeException e) {
      lazyLayer.close();
      throw e;
    }
    mounts.put(mountPoint, new Mounted(lazyLayer, mount, kept));
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
            "layer {} of {} {} at {} ({}) in {} ms",
            layer.digest(),
            request.image(),
            resumed ? "served again (its FUSE connection was kept across the restart)" : "mounted",
            mountPoint,
            lazyLayer.lazy() ? "lazily" : "fetched whole: no zTOC",
            millis);
    return true;
  }

  /**
   * Passthrough is off: the snapshotter's filesystems never hand files to the kernel, and a
   * connection that is served again after a restart could not know the backing ids of earlier ones.
   */
  private static MountOptions options(Descriptor layer, int maxWrite) {
    return new MountOptions(
        "lazypull:" + layer.digest(), SUBTYPE, true, WORKERS, false, maxWrite, true);
  }

  /** What the holder keeps beside a descriptor: enough to check and serve it again. */
  private static String describe(Digest layer, LazyLayer lazyLayer, int maxWrite) {
    return "layer=" + layer + " nodes=" + lazyLayer.nodeCount() + " maxWrite=" + maxWrite;
  }

  private static int maxWriteOf(String meta) {
    for (String field : meta.split(" ")) {
      if (field.startsWith("maxWrite=")) {
        return Integer.parseInt(field.substring("maxWrite=".length()));
      }
    }
    throw new IllegalArgumentException("no maxWrite in '" + meta + "'");
  }

  /**
   * True if the held connection is the live FUSE mount at {@code mountPoint} of this very layer,
   * with the tree the earlier daemon served: same layer digest, same node count (inode numbers are
   * given the same way from the same index), and the mount still in the mount table. Nothing here
   * touches the mount itself: nobody serves it yet, so a stat would wait.
   */
  private static boolean resumable(
      Path mountPoint, Digest layer, LazyLayer lazyLayer, FdHolderClient.HeldFd held) {
    String expected = describe(layer, lazyLayer, 0);
    String meta = held.meta();
    String withoutMaxWrite = meta.replaceFirst(" maxWrite=\\d+$", " maxWrite=0");
    if (!withoutMaxWrite.equals(expected)) {
      log.warn(
          "the kept FUSE connection at {} was for '{}', this layer is '{}'; mounting anew",
          mountPoint,
          meta,
          expected);
      return false;
    }
    try {
      int maxWrite = maxWriteOf(meta);
      if (maxWrite < 4096 || maxWrite % 4096 != 0) {
        return false;
      }
    } catch (IllegalArgumentException e) {
      return false;
    }
    var fuseMount = MountTable.fuseMountAt(mountPoint);
    if (fuseMount.isEmpty()
        || !fuseMount.get().fsType().equals("fuse." + SUBTYPE)
        || !fuseMount.get().source().equals("lazypull:" + layer)) {
      log.warn(
          "the kept FUSE connection at {} has no mount there any more ({}); mounting anew",
          mountPoint,
          fuseMount.map(MountTable.Entry::toString).orElse("nothing mounted"));
      return false;
    }
    return true;
  }

  /**
   * Detaches a lazypull FUSE mount left at {@code mountPoint} that this daemon does not serve,
   * without asking it anything: a holder this daemon does not use (started by an earlier daemon run
   * with it, while this one runs with --no-fd-holder) may keep its connection alive, and then the
   * stat that finds dead mounts would wait for a server that never comes.
   */
  private static void detachUnserved(Path mountPoint) throws IOException {
    var left = MountTable.fuseMountAt(mountPoint);
    if (left.isEmpty() || !left.get().fsType().equals("fuse." + SUBTYPE)) {
      return;
    }
    int result =
        dev.lazypull.fuse.linux.Libc.umount2(
            mountPoint.toString(), dev.lazypull.fuse.linux.Libc.MNT_DETACH);
    if (result < 0) {
      throw new IOException(
          "detaching the unserved FUSE mount at "
              + mountPoint
              + ": "
              + dev.lazypull.fuse.linux.Libc.strerror(-result)
              + "; try umount -l "
              + mountPoint);
    }
    log.warn("detached a FUSE mount at {} that no server of this daemon serves", mountPoint);
  }

  /** The holder's descriptor of the connection at {@code mountPoint}, if it keeps one. */
  private Optional<FdHolderClient.HeldFd> heldConnection(Path mountPoint) {
    FdHolderClient fdHolder = holder;
    if (fdHolder == null) {
      return Optional.empty();
    }
    try {
      return fdHolder.get(mountPoint.toString());
    } catch (IOException e) {
      log.warn("asking the fd holder for {}: {}; mounting anew", mountPoint, e.getMessage());
      return Optional.empty();
    }
  }

  /** Hands the connection to the holder; false (and logged) if it cannot keep it. */
  private boolean keep(Path mountPoint, FuseMount mount, String meta) {
    FdHolderClient fdHolder = holder;
    if (fdHolder == null) {
      return false;
    }
    try {
      fdHolder.put(mountPoint.toString(), mount.deviceFd(), meta);
      return true;
    } catch (IOException e) {
      log.warn(
          "the fd holder cannot keep the FUSE connection at {} ({}); it will end with this daemon",
          mountPoint,
          e.getMessage());
      return false;
    }
  }

  /** Ends a held connection that will not be served: the holder's copy and ours both close. */
  private void abandon(Path mountPoint, FdHolderClient.HeldFd held, String why) {
    log.warn("not serving the kept FUSE connection at {} again: {}; ending it", mountPoint, why);
    release(mountPoint);
    dev.lazypull.fuse.linux.Libc.close(held.fd());
  }

  /** Lets the holder close its descriptor of {@code mountPoint}'s connection, if it keeps one. */
  private void release(Path mountPoint) {
    FdHolderClient fdHolder = holder;
    if (fdHolder == null) {
      return;
    }
    try {
      fdHolder.drop(mountPoint.toString());
    } catch (IOException e) {
      log.warn("the fd holder could not release {}: {}", mountPoint, e.getMessage());
    }
  }

  /**
   * Ends the kept connections no snapshot claimed (their snapshot was removed while no daemon ran,
   * or its layer could not be served): nobody would ever answer their readers.
   */
  public void releaseUnclaimed() {
    FdHolderClient fdHolder = holder;
    if (fdHolder == null) {
      return;
    }
    try {
      for (String key : fdHolder.list()) {
        if (!mounts.containsKey(Path.of(key))) {
          log.warn("ending the kept FUSE connection at {}: no snapshot uses it", key);
          fdHolder.drop(key);
        }
      }
    } catch (IOException e) {
      log.warn("checking what the fd holder keeps: {}", e.getMessage());
    }
  }

  /** Unmounts what is mounted at {@code mountPoint}, detaching lazily when it is busy. */
  public void unmount(Path mountPoint) throws IOException {
    Future<?> fetching = backgroundFetches.remove(mountPoint);
    if (fetching != null) {
      fetching.cancel(true);
    }
    Mounted mounted = mounts.remove(mountPoint);
    if (mounted == null) {
      release(mountPoint); // first: statfs on a kept connection nobody serves would wait
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
      if (mounted.held()) {
        release(mountPoint);
      }
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

  /**
   * Unmounts every layer (detaching busy ones), except those whose connection the fd holder keeps:
   * those stop being served (each worker answers what it has read, within {@link #DRAIN_BOUND}) and
   * stay mounted for the next daemon.
   */
  /** Opens {@code layer} for a lazy mount; empty when it is not served lazily. */
  private Optional<LazyLayer> openLayer(
      ImageReference image, Optional<FoundIndex> found, Descriptor layer)
      throws IOException, RegistryException {
    if (LazyLayer.isEstargz(layer)) {
      // The layer carries its own index (the TOC), whether or not the image has a SOCI index.
      return Optional.of(LazyLayer.openEstargz(client, image, layer, cache, counters, readTimeout));
    }
    if (found.isPresent()) {
      return Optional.of(
          LazyLayer.open(
              client,
              image,
              finder,
              found.get(),
              layer,
              cache,
              counters,
              wholeLayersDir,
              readTimeout,
              allowUnverifiedToc));
    }
    return Optional.ofNullable(
        allowUnverifiedToc
            ? LazyLayer.openUnverifiedEstargz(client, image, layer, cache, counters, readTimeout)
            : null);
  }

  private static String aheadKey(ImageReference image, Digest layer) {
    return image + "@" + layer;
  }

  /** Starts opening the layers above {@code current} that are not mounted or opening yet. */
  private void openAhead(
      ImageReference image,
      Optional<FoundIndex> found,
      ResolvedImage resolved,
      Descriptor current) {
    dropStaleAhead();
    var layers = resolved.imageManifest().layers();
    boolean above = false;
    for (Descriptor layer : layers) {
      if (above && !aheadOpener.isShutdown()) {
        ahead.computeIfAbsent(
            aheadKey(image, layer.digest()),
            key ->
                new OpenedAhead(
                    aheadOpener.submit(() -> openLayer(image, found, layer)), System.nanoTime()));
      }
      above |= layer.digest().equals(current.digest());
    }
  }

  /**
   * The layer opened ahead, or null when it was not (or its opening failed: the caller opens it
   * again and reports that failure itself).
   */
  private @Nullable Taken takeAhead(ImageReference image, Descriptor layer) {
    OpenedAhead opened = ahead.remove(aheadKey(image, layer.digest()));
    if (opened == null) {
      return null;
    }
    try {
      return new Taken(
          opened.layer().get(readTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      opened.layer().cancel(true);
      return null;
    } catch (java.util.concurrent.ExecutionException
        | java.util.concurrent.TimeoutException
        | java.util.concurrent.CancellationException e) {
      opened.layer().cancel(true);
      log.debug("opening layer {} ahead failed ({}); opening it now", layer.digest(), e.toString());
      return null;
    }
  }

  private void dropStaleAhead() {
    long now = System.nanoTime();
    ahead
        .entrySet()
        .removeIf(
            entry -> {
              if (now - entry.getValue().openedAtNanos() < AHEAD_KEPT.toNanos()) {
                return false;
              }
              closeAhead(entry.getValue());
              return true;
            });
  }

  private static void closeAhead(OpenedAhead opened) {
    if (!opened.layer().cancel(true) && opened.layer().isDone()) {
      try {
        opened.layer().resultNow().ifPresent(RemoteLayerMounter::closeQuietly);
      } catch (IllegalStateException e) {
        // it failed: nothing was opened
      }
    }
  }

  @Override
  public void close() {
    backgroundFetcher.shutdownNow();
    aheadOpener.shutdownNow();
    ahead.values().forEach(RemoteLayerMounter::closeAhead);
    ahead.clear();
    FdHolderClient fdHolder = holder;
    boolean handOver = fdHolder != null && fdHolder.alive();
    var stopping = new java.util.ArrayList<Thread>();
    var handedOver = new java.util.ArrayList<Path>();
    for (var entry : mounts.entrySet()) {
      if (handOver && entry.getValue().held()) {
        Mounted mounted = entry.getValue();
        handedOver.add(entry.getKey());
        stopping.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        if (!mounted.mount().stopServing(DRAIN_BOUND)) {
                          log.warn(
                              "{}: a FUSE request was still being served after {} s; its reader"
                                  + " gets an error",
                              entry.getKey(),
                              DRAIN_BOUND.toSeconds());
                        }
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    }));
      }
    }
    for (Thread thread : stopping) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    for (Path mountPoint : handedOver) {
      Mounted mounted = mounts.remove(mountPoint);
      if (mounted != null) {
        closeQuietly(mounted.layer());
      }
    }
    if (!handedOver.isEmpty()) {
      log.info(
          "left {} lazily mounted layers to the fd holder for the next daemon", handedOver.size());
    }
    for (Path mountPoint : mounts.keySet()) {
      try {
        unmount(mountPoint);
      } catch (IOException e) {
        log.warn("unmounting {} failed: {}", mountPoint, e.getMessage());
      }
    }
    if (fdHolder != null) {
      fdHolder.close();
    }
  }

  private static void closeQuietly(LazyLayer layer) {
    try {
      layer.close();
    } catch (IOException e) {
      log.debug("closing a layer: {}", e.toString());
    }
  }
}
