package dev.lazypull.containerd;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.FieldMask;
import dev.lazypull.containerd.api.content.ContentGrpc;
import dev.lazypull.containerd.api.content.Info;
import dev.lazypull.containerd.api.content.UpdateRequest;
import dev.lazypull.containerd.api.content.WriteAction;
import dev.lazypull.containerd.api.content.WriteContentRequest;
import dev.lazypull.containerd.api.content.WriteContentResponse;
import dev.lazypull.containerd.api.diff.ApplyRequest;
import dev.lazypull.containerd.api.diff.DiffGrpc;
import dev.lazypull.containerd.api.images.CreateImageRequest;
import dev.lazypull.containerd.api.images.Image;
import dev.lazypull.containerd.api.images.ImagesGrpc;
import dev.lazypull.containerd.api.images.UpdateImageRequest;
import dev.lazypull.containerd.api.leases.CreateRequest;
import dev.lazypull.containerd.api.leases.DeleteRequest;
import dev.lazypull.containerd.api.leases.LeasesGrpc;
import dev.lazypull.containerd.api.types.Descriptor;
import dev.lazypull.oci.Digest;
import dev.lazypull.oci.OciJson;
import dev.lazypull.registry.ImageReference;
import dev.lazypull.registry.RegistryClient;
import dev.lazypull.registry.RegistryException;
import dev.lazypull.registry.ResolvedImage;
import dev.lazypull.snapshotter.SnapshotLabels;
import dev.lazypull.snapshotter.api.CommitSnapshotRequest;
import dev.lazypull.snapshotter.api.PrepareSnapshotRequest;
import dev.lazypull.snapshotter.api.PrepareSnapshotResponse;
import dev.lazypull.snapshotter.api.RemoveSnapshotRequest;
import dev.lazypull.snapshotter.api.SnapshotsGrpc;
import dev.lazypull.snapshotter.api.StatSnapshotRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Pulls an image into containerd the way a CRI pull through a remote snapshotter does, without
 * downloading layers: under a lease, each layer is prepared through containerd's snapshots service
 * with the labels that name it (the snapshotter mounts it lazily and answers AlreadyExists), then
 * the config and manifest go to the content store with garbage-collection labels that keep the
 * snapshots and the config alive, and the image record is created. A layer the snapshotter does not
 * serve lazily (its image has no SOCI index) is downloaded into containerd's content store and
 * unpacked by containerd's diff service into the prepared snapshot, as containerd's own pull does.
 */
public final class ContainerdPuller {
  /** Key plus value of a label may hold at most 4096 bytes (containerd's limit). */
  private static final int LABEL_LIMIT = 4096;

  private static final long CALL_TIMEOUT_SECONDS = 300;
  private static final int WRITE_CHUNK_BYTES = 1 << 20;

  private final RegistryClient registry;
  private final ContainerdConnection containerd;
  private final String namespace;
  private final String snapshotter;

  public ContainerdPuller(
      RegistryClient registry,
      ContainerdConnection containerd,
      String namespace,
      String snapshotter) {
    this.registry = registry;
    this.containerd = containerd;
    this.namespace = namespace;
    this.snapshotter = snapshotter;
  }

  /** What was pulled: the image name in containerd, its manifest, and its layers' chain ids. */
  public record PulledImage(String name, Digest manifest, List<String> chainIds) {}

  public PulledImage pull(ImageReference reference) throws IOException, RegistryException {
    ResolvedImage image = registry.resolveManifest(reference);
    byte[] config = registry.fetchBlobBytes(reference, image.imageManifest().config());
    List<String> chainIds = chainIds(OciJson.MAPPER.readTree(config), reference);
    if (chainIds.size() != image.imageManifest().layers().size()) {
      throw new IOException(
          "pull "
              + reference
              + ": the config lists "
              + chainIds.size()
              + " diff ids but the"
              + " manifest "
              + image.imageManifest().layers().size()
              + " layers; the image is"
              + " broken");
    }
    String lease = "lazypull-pull-" + UUID.randomUUID();
    var leases = LeasesGrpc.newBlockingStub(containerd.channel(namespace, null));
    // The lease expires by itself if this process dies before deleting it.
    leases
        .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .create(
            CreateRequest.newBuilder()
                .setId(lease)
                .putLabels(
                    "containerd.io/gc.expire",
                    Instant.now()
                        .plus(1, ChronoUnit.HOURS)
                        .truncatedTo(ChronoUnit.SECONDS)
                        .toString())
                .build());
    try {
      Channel leased = containerd.channel(namespace, lease);
      prepareLayers(leased, reference, image, chainIds);
      writeContent(leased, image, config, chainIds.getLast());
      String name = reference.toString();
      createImage(leased, name, image);
      return new PulledImage(name, image.manifest().digest(), chainIds);
    } catch (StatusRuntimeException e) {
      throw new IOException(
          "pull "
              + reference
              + " into containerd: "
              + e.getStatus().getCode()
              + " "
              + e.getStatus().getDescription(),
          e);
    } finally {
      try {
        leases
            .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .delete(DeleteRequest.newBuilder().setId(lease).build());
      } catch (StatusRuntimeException e) {
        // It expires by its gc.expire label.
      }
    }
  }

  private static List<String> chainIds(JsonNode config, ImageReference reference)
      throws IOException {
    List<String> chainIds = new ArrayList<>();
    for (JsonNode diffId : config.path("rootfs").path("diff_ids")) {
      String previous = chainIds.isEmpty() ? null : chainIds.getLast();
      chainIds.add(
          previous == null
              ? diffId.asText()
              : Digest.sha256((previous + " " + diffId.asText()).getBytes(StandardCharsets.UTF_8))
                  .toString());
    }
    if (chainIds.isEmpty()) {
      throw new IOException("pull " + reference + ": its config lists no layers (rootfs.diff_ids)");
    }
    return chainIds;
  }

  private void prepareLayers(
      Channel leased, ImageReference reference, ResolvedImage image, List<String> chainIds)
      throws IOException {
    var snapshots =
        SnapshotsGrpc.newBlockingStub(leased)
            .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    var layers = image.imageManifest().layers();
    for (int i = 0; i < layers.size(); i++) {
      String chainId = chainIds.get(i);
      if (exists(snapshots, chainId)) {
        continue;
      }
      String key = "lazypull-extract-" + UUID.randomUUID() + " " + chainId;
      Map<String, String> labels = new HashMap<>();
      labels.put(SnapshotLabels.TARGET_REF, chainId);
      labels.put(SnapshotLabels.IMAGE_REF, reference.toString());
      labels.put(SnapshotLabels.MANIFEST_DIGEST, image.manifest().digest().toString());
      labels.put(SnapshotLabels.LAYER_DIGEST, layers.get(i).digest().toString());
      labels.put(SnapshotLabels.IMAGE_LAYERS, layersFrom(layers, i));
      PrepareSnapshotResponse prepared;
      try {
        prepared =
            snapshots.prepare(
                PrepareSnapshotRequest.newBuilder()
                    .setSnapshotter(snapshotter)
                    .setKey(key)
                    .setParent(i == 0 ? "" : chainIds.get(i - 1))
                    .putAllLabels(labels)
                    .build());
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.ALREADY_EXISTS) {
          continue; // served remotely: the snapshotter committed chainId itself
        }
        throw e;
      }
      // Not served lazily (no SOCI index): download and unpack it as containerd's unpacker does.
      boolean committed = false;
      try {
        unpack(leased, reference, layers.get(i), prepared);
        snapshots.commit(
            CommitSnapshotRequest.newBuilder()
                .setSnapshotter(snapshotter)
                .setName(chainId)
                .setKey(key)
                .build());
        committed = true;
      } finally {
        if (!committed) {
          removeQuietly(snapshots, key);
        }
      }
    }
  }

  /**
   * Writes the layer blob to containerd's content store (kept by the lease now, by the manifest's
   * gc.ref labels later) and has containerd's diff service apply it to the prepared mounts.
   */
  private void unpack(
      Channel leased,
      ImageReference reference,
      dev.lazypull.oci.Descriptor layer,
      PrepareSnapshotResponse prepared)
      throws IOException {
    Path download = Files.createTempFile("lazypull-layer-", ".blob");
    try {
      try {
        Files.delete(download); // fetchBlob makes the file appear only once verified
        registry.fetchBlob(reference, layer, download);
      } catch (RegistryException e) {
        throw new IOException(
            "pull " + reference + ": download layer " + layer.digest() + ": " + e.getMessage(), e);
      }
      writeFile(leased, layer.digest(), download, layer.size());
    } finally {
      Files.deleteIfExists(download);
    }
    DiffGrpc.newBlockingStub(leased)
        .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .apply(
            ApplyRequest.newBuilder()
                .setDiff(
                    Descriptor.newBuilder()
                        .setMediaType(layer.mediaType())
                        .setDigest(layer.digest().toString())
                        .setSize(layer.size()))
                .addAllMounts(prepared.getMountsList())
                .build());
  }

  private void removeQuietly(SnapshotsGrpc.SnapshotsBlockingStub snapshots, String key) {
    try {
      snapshots.remove(
          RemoveSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build());
    } catch (StatusRuntimeException e) {
      // The lease holds it; containerd collects it when the lease ends.
    }
  }

  /**
   * Streams a file into containerd's content store in chunks, waiting for containerd's answer to
   * each (so memory stays bounded), the last one committing. Existing content is left as it is.
   */
  private static void writeFile(Channel leased, Digest digest, Path file, long size)
      throws IOException {
    var responses = new java.util.concurrent.LinkedBlockingQueue<Object>();
    StreamObserver<WriteContentRequest> requests =
        ContentGrpc.newStub(leased)
            .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .write(
                new StreamObserver<>() {
                  @Override
                  public void onNext(WriteContentResponse response) {
                    responses.add(response);
                  }

                  @Override
                  public void onError(Throwable t) {
                    responses.add(t);
                  }

                  @Override
                  public void onCompleted() {
                    responses.add(new IOException("containerd ended the write of " + digest));
                  }
                });
    String ref = "lazypull-" + digest;
    try (var in = Files.newInputStream(file)) {
      long offset = 0;
      byte[] chunk = new byte[WRITE_CHUNK_BYTES];
      do {
        int read = in.readNBytes(chunk, 0, chunk.length);
        boolean last = offset + read >= size;
        requests.onNext(
            WriteContentRequest.newBuilder()
                .setAction(last ? WriteAction.COMMIT : WriteAction.WRITE)
                .setRef(ref)
                .setTotal(size)
                .setExpected(digest.toString())
                .setOffset(offset)
                .setData(ByteString.copyFrom(chunk, 0, read))
                .build());
        offset += read;
        Object answer = responses.poll(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (answer instanceof StatusRuntimeException e
            && e.getStatus().getCode() == Status.Code.ALREADY_EXISTS) {
          return; // containerd has this blob already
        }
        if (!(answer instanceof WriteContentResponse)) {
          throw new IOException(
              "write layer " + digest + " to containerd's content store: " + answer);
        }
      } while (offset < size);
      requests.onCompleted();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      requests.onError(e);
      throw new IOException("interrupted writing " + digest + " to containerd", e);
    }
  }

  private boolean exists(SnapshotsGrpc.SnapshotsBlockingStub snapshots, String key) {
    try {
      snapshots.stat(
          StatSnapshotRequest.newBuilder().setSnapshotter(snapshotter).setKey(key).build());
      return true;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  /** This layer's digest and those above it, comma-separated, cut to fit containerd's limit. */
  private static String layersFrom(List<dev.lazypull.oci.Descriptor> layers, int first) {
    var value = new StringBuilder();
    int budget = LABEL_LIMIT - SnapshotLabels.IMAGE_LAYERS.length();
    for (int i = first; i < layers.size(); i++) {
      String digest = layers.get(i).digest().toString();
      int needed = digest.length() + (value.isEmpty() ? 0 : 1);
      if (value.length() + needed > budget) {
        break;
      }
      value.append(value.isEmpty() ? "" : ",").append(digest);
    }
    return value.toString();
  }

  private void writeContent(Channel leased, ResolvedImage image, byte[] config, String topChainId)
      throws IOException {
    var manifest = image.manifest();
    var imageManifest = image.imageManifest();
    // gc.ref labels: the manifest keeps its config (and would keep layer blobs, had we any),
    // the config keeps the top snapshot, which keeps its parents.
    Map<String, String> configLabels =
        Map.of("containerd.io/gc.ref.snapshot." + snapshotter, topChainId);
    Map<String, String> manifestLabels = new HashMap<>();
    manifestLabels.put(
        "containerd.io/gc.ref.content.config", imageManifest.config().digest().toString());
    for (int i = 0; i < imageManifest.layers().size(); i++) {
      manifestLabels.put(
          "containerd.io/gc.ref.content.l." + i, imageManifest.layers().get(i).digest().toString());
    }
    write(leased, imageManifest.config().digest(), config, configLabels);
    write(leased, manifest.digest(), manifest.bytes(), manifestLabels);
  }

  /** Writes one blob in a single COMMIT message; existing content only gets the labels. */
  private static void write(Channel leased, Digest digest, byte[] data, Map<String, String> labels)
      throws IOException {
    var content =
        ContentGrpc.newStub(leased).withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    var done = new CompletableFuture<WriteContentResponse>();
    StreamObserver<WriteContentRequest> requests =
        content.write(
            new StreamObserver<>() {
              @Override
              public void onNext(WriteContentResponse response) {
                if (response.getAction() == WriteAction.COMMIT) {
                  done.complete(response);
                }
              }

              @Override
              public void onError(Throwable t) {
                done.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                done.completeExceptionally(
                    new IOException("containerd ended the write of " + digest + " without commit"));
              }
            });
    requests.onNext(
        WriteContentRequest.newBuilder()
            .setAction(WriteAction.COMMIT)
            .setRef("lazypull-" + digest)
            .setTotal(data.length)
            .setExpected(digest.toString())
            .setOffset(0)
            .setData(ByteString.copyFrom(data))
            .putAllLabels(labels)
            .build());
    requests.onCompleted();
    try {
      done.get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException status
          && status.getStatus().getCode() == Status.Code.ALREADY_EXISTS) {
        addLabels(leased, digest, labels);
        return;
      }
      throw new IOException(
          "write " + digest + " to containerd's content store: " + e.getCause(), e);
    } catch (TimeoutException e) {
      throw new IOException("write " + digest + " to containerd's content store timed out", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted writing " + digest + " to containerd", e);
    }
  }

  private static void addLabels(Channel leased, Digest digest, Map<String, String> labels) {
    var mask = FieldMask.newBuilder();
    labels.keySet().forEach(k -> mask.addPaths("labels." + k));
    ContentGrpc.newBlockingStub(leased)
        .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .update(
            UpdateRequest.newBuilder()
                .setInfo(Info.newBuilder().setDigest(digest.toString()).putAllLabels(labels))
                .setUpdateMask(mask)
                .build());
  }

  private static void createImage(Channel leased, String name, ResolvedImage image) {
    var manifest = image.manifest();
    Image record =
        Image.newBuilder()
            .setName(name)
            .setTarget(
                Descriptor.newBuilder()
                    .setMediaType(manifest.mediaType())
                    .setDigest(manifest.digest().toString())
                    .setSize(manifest.size()))
            .build();
    var images =
        ImagesGrpc.newBlockingStub(leased)
            .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    try {
      images.create(CreateImageRequest.newBuilder().setImage(record).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
        throw e;
      }
      images.update(
          UpdateImageRequest.newBuilder()
              .setImage(record)
              .setUpdateMask(FieldMask.newBuilder().addPaths("target"))
              .build());
    }
  }
}
