package dev.lazypull.soci;

import dev.lazypull.oci.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Indexes several layers at once (each streamed from the registry), a few at a time: indexing is
 * CPU-bound inflating, so more threads than cores only add memory.
 */
final class LayerIndexPool {

  private final LayerIndexer indexer;
  private final int parallelism;

  LayerIndexPool(RegistryClient client, IndexingOptions options) {
    this.indexer =
        new LayerIndexer(
            client, options.spanSize(), options.minLayerSize(), options.buildToolIdentifier());
    this.parallelism = options.parallelism();
  }

  /** One result per distinct layer digest, in first-seen order; the first failure is thrown. */
  Map<Digest, LayerIndexResult> indexAll(ImageReference repository, List<Descriptor> layers)
      throws RegistryException, IOException {
    Map<Digest, Descriptor> distinct = new LinkedHashMap<>();
    layers.forEach(l -> distinct.putIfAbsent(l.digest(), l));
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism, distinct.size() + 1));
    try {
      List<Future<LayerIndexResult>> futures = new ArrayList<>();
      for (Descriptor layer : distinct.values()) {
        futures.add(pool.submit(() -> indexer.index(repository, layer)));
      }
      Map<Digest, LayerIndexResult> results = new LinkedHashMap<>();
      for (Future<LayerIndexResult> future : futures) {
        LayerIndexResult result = await(future);
        results.put(result.layer().digest(), result);
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  private static LayerIndexResult await(Future<LayerIndexResult> future)
      throws RegistryException, IOException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while indexing layers");
    } catch (ExecutionException e) {
      switch (e.getCause()) {
        case RegistryException r -> throw r;
        case IOException io -> throw io;
        case RuntimeException r -> throw r;
        case Error err -> throw err;
        case null, default -> throw new IOException(e.getCause());
      }
    }
  }
}
