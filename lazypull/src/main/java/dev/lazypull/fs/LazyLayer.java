package dev.lazypull.fs;

import dev.lazypull.fs.cache.SpanCache;
import dev.lazypull.fs.layer.EstargzLayer;
import dev.lazypull.fs.layer.FetchCounters;
import dev.lazypull.fs.layer.IndexedLayer;
import dev.lazypull.fs.layer.LayerReader;
import dev.lazypull.fs.layer.LocalLayer;
import dev.lazypull.fs.layer.RegistryBytes;
import dev.lazypull.fs.tree.LayerEntryException;
import dev.lazypull.fs.tree.MergedTree;
import dev.lazypull.fs.tree.MergedTreeBuilder;
import dev.lazypull.oci.Descriptor;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.soci.FoundIndex;
import dev.lazypull.soci.LayerZtoc;
import dev.lazypull.soci.SociIndexFinder;
import dev.lazypull.ztoc.Ztoc;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * ONE layer of an image made ready to serve as an overlayfs lower directory (a containerd remote
 * snapshot): its tree keeps whiteouts in overlayfs's form. A layer with a zTOC is read lazily by
 * range; one without (too small to index) is fetched whole and read from local disk. An eStargz
 * layer is read lazily through its own TOC.
 */
public final class LazyLayer implements AutoCloseable {
  private final LayerReader reader;
  private final MergedTree tree;

  private LazyLayer(LayerReader reader, MergedTree tree) {
    this.reader = reader;
    this.tree = tree;
  }

  /**
   * Opens {@code layer} of the image {@code found} indexes.
   *
   * @param wholeLayersDir where layers without a zTOC are kept uncompressed
   * @param allowUnverifiedToc whether a layer without a zTOC is probed for an (e)stargz footer and,
   *     if it has one, mounted lazily through its unverified TOC (insecure-skip-verify)
   */
  public static LazyLayer open(
      RegistryClient client,
      ImageReference repository,
      SociIndexFinder finder,
      FoundIndex found,
      Descriptor layer,
      SpanCache cache,
      FetchCounters counters,
      Path wholeLayersDir,
      Duration readTimeout,
      boolean allowUnverifiedToc)
      throws IOException, RegistryException {
    Optional<LayerZtoc> ztocOfLayer = found.forLayer(layer.digest());
    LayerReader reader;
    Ztoc toc;
    if (ztocOfLayer.isPresent()) {
      toc = finder.fetchZtoc(found, ztocOfLayer.get());
      var bytes = new RegistryBytes(client, repository, layer, readTimeout);
      reader = new IndexedLayer(layer.digest(), toc, bytes, cache, counters, readTimeout);
    } else {
      if (allowUnverifiedToc) {
        LazyLayer unverified =
            openUnverifiedEstargz(client, repository, layer, cache, counters, readTimeout);
        if (unverified != null) {
          return unverified;
        }
      }
      var whole = WholeLayers.fetch(client, repository, layer, wholeLayersDir, !allowUnverifiedToc);
      reader = whole.layer();
      toc = whole.toc();
    }
    var builder = MergedTreeBuilder.forOverlayLayer();
    try {
      builder.addLayer(0, LayerEntries.of(toc));
    } catch (LayerEntryException e) {
      closeQuietly(reader);
      throw new IOException(
          "building the tree of layer "
              + layer.digest()
              + " of "
              + repository
              + ": "
              + e.getMessage()
              + "; the layer cannot be mounted safely",
          e);
    }
    return new LazyLayer(reader, builder.build());
  }

  /**
   * Opens the eStargz {@code layer} (it carries the TOC digest annotation) lazily: no SOCI index is
   * needed, the TOC inside the layer is the index.
   */
  public static LazyLayer openEstargz(
      RegistryClient client,
      ImageReference repository,
      Descriptor layer,
      SpanCache cache,
      FetchCounters counters,
      Duration readTimeout)
      throws IOException {
    String tocDigest = EstargzLayers.tocDigestOf(layer);
    if (tocDigest == null) {
      throw new IllegalArgumentException("layer " + layer.digest() + " is not eStargz");
    }
    EstargzLayer reader =
        EstargzLayers.open(client, repository, layer, tocDigest, cache, counters, readTimeout);
    return ofEstargz(repository, layer, reader, EstargzEntries.of(reader));
  }

  /**
   * Opens {@code layer}, which has neither a zTOC nor the TOC digest annotation, lazily through its
   * unverified TOC if its tail holds an (e)stargz footer (insecure-skip-verify); null when it does
   * not, or its TOC cannot be used: the caller then has it fetched whole.
   */
  public static @Nullable LazyLayer openUnverifiedEstargz(
      RegistryClient client,
      ImageReference repository,
      Descriptor layer,
      SpanCache cache,
      FetchCounters counters,
      Duration readTimeout)
      throws IOException {
    var unverified =
        EstargzLayers.openUnverified(client, repository, layer, cache, counters, readTimeout);
    return unverified == null
        ? null
        : ofEstargz(repository, layer, unverified.layer(), unverified.entries());
  }

  private static LazyLayer ofEstargz(
      ImageReference repository,
      Descriptor layer,
      EstargzLayer reader,
      List<dev.lazypull.fs.tree.LayerEntry> entries)
      throws IOException {
    var builder = MergedTreeBuilder.forOverlayLayer();
    try {
      builder.addLayer(0, entries);
    } catch (LayerEntryException e) {
      throw new IOException(
          "building the tree of eStargz layer "
              + layer.digest()
              + " of "
              + repository
              + ": "
              + e.getMessage()
              + "; the layer cannot be mounted safely",
          e);
    }
    return new LazyLayer(reader, builder.build());
  }

  /** Whether the layer is eStargz: the snapshotter mounts those without a SOCI index. */
  public static boolean isEstargz(Descriptor layer) {
    return EstargzLayers.tocDigestOf(layer) != null;
  }

  /** Whether reads fetch ranges from the registry (else the layer is local). */
  public boolean lazy() {
    return reader instanceof IndexedLayer || reader instanceof EstargzLayer;
  }

  /**
   * Pulls the rest of the layer on the caller's thread, paced by {@code pacer}; returns when the
   * layer is complete or bad, or when the thread is interrupted (the layer was unmounted).
   */
  public void fetchRestInBackground(dev.lazypull.fs.layer.BackgroundPacer pacer) {
    BackgroundFetch.fetch(reader, pacer);
  }

  /** A filesystem over this layer alone, for a FUSE mount. */
  /**
   * Files, directories and links in the layer's tree. The tree numbers its inodes the same way
   * every time it is built from the same index, so this count is a cheap check that a FUSE
   * connection served before with these inode numbers can be served again.
   */
  public long nodeCount() {
    return tree.nodeCount();
  }

  public ImageFilesystem filesystem() {
    return new ImageFilesystem(tree, List.of(reader), ino -> {});
  }

  @Override
  public void close() throws IOException {
    if (reader instanceof LocalLayer local) {
      local.close();
    }
  }

  private static void closeQuietly(LayerReader reader) {
    try {
      if (reader instanceof LocalLayer local) {
        local.close();
      }
    } catch (IOException e) {
      // Already failing with the tree error; the file handle is all that is lost.
    }
  }
}
