package dev.lazypull.snapshotter;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.lazypull.snapshotter.api.CleanupRequest;
import dev.lazypull.snapshotter.api.CommitSnapshotRequest;
import dev.lazypull.snapshotter.api.Info;
import dev.lazypull.snapshotter.api.Kind;
import dev.lazypull.snapshotter.api.ListSnapshotsRequest;
import dev.lazypull.snapshotter.api.ListSnapshotsResponse;
import dev.lazypull.snapshotter.api.Mount;
import dev.lazypull.snapshotter.api.MountsRequest;
import dev.lazypull.snapshotter.api.MountsResponse;
import dev.lazypull.snapshotter.api.PrepareSnapshotRequest;
import dev.lazypull.snapshotter.api.PrepareSnapshotResponse;
import dev.lazypull.snapshotter.api.RemoveSnapshotRequest;
import dev.lazypull.snapshotter.api.SnapshotsGrpc;
import dev.lazypull.snapshotter.api.StatSnapshotRequest;
import dev.lazypull.snapshotter.api.StatSnapshotResponse;
import dev.lazypull.snapshotter.api.UpdateSnapshotRequest;
import dev.lazypull.snapshotter.api.UpdateSnapshotResponse;
import dev.lazypull.snapshotter.api.UsageRequest;
import dev.lazypull.snapshotter.api.UsageResponse;
import dev.lazypull.snapshotter.api.ViewSnapshotRequest;
import dev.lazypull.snapshotter.api.ViewSnapshotResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * containerd's Snapshots gRPC service over a {@link Snapshotter}. Refusals become the statuses
 * containerd's errdefs expects (NotFound, AlreadyExists, FailedPrecondition, InvalidArgument);
 * anything else is Internal with a one-line message naming the operation and key.
 */
final class SnapshotsService extends SnapshotsGrpc.SnapshotsImplBase {
  private static final Logger log = LoggerFactory.getLogger(SnapshotsService.class);

  /** containerd streams List answers in batches; 100 keeps each message small. */
  private static final int LIST_BATCH = 100;

  private final Snapshotter snapshotter;
  private final @Nullable SnapshotterMetrics metrics;

  SnapshotsService(Snapshotter snapshotter, @Nullable SnapshotterMetrics metrics) {
    this.snapshotter = snapshotter;
    this.metrics = metrics;
  }

  private interface Call<T> {
    T run() throws Exception;
  }

  private <T> void answer(String action, StreamObserver<T> observer, Call<T> call) {
    String method =
        action.substring(0, action.indexOf(' ') < 0 ? action.length() : action.indexOf(' '));
    T response;
    try {
      response = call.run();
    } catch (SnapshotException e) {
      log.debug("{}: {}", action, e.getMessage());
      Status status = status(e);
      record(method, status);
      observer.onError(status.withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (Exception e) {
      log.warn("{} failed", action, e);
      record(method, Status.INTERNAL);
      observer.onError(
          Status.INTERNAL.withDescription(action + ": " + e).withCause(e).asRuntimeException());
      return;
    }
    record(method, Status.OK);
    observer.onNext(response);
    observer.onCompleted();
  }

  private void record(String method, Status status) {
    if (metrics != null) {
      metrics.recordCall(method, status.getCode().name());
    }
  }

  private static Status status(SnapshotException e) {
    return switch (e.reason()) {
      case NOT_FOUND -> Status.NOT_FOUND;
      case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
      case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
      case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case UNAVAILABLE -> Status.UNAVAILABLE;
    };
  }

  @Override
  public void prepare(PrepareSnapshotRequest request, StreamObserver<PrepareSnapshotResponse> out) {
    answer(
        "prepare snapshot " + request.getKey(),
        out,
        () -> {
          var mounts =
              snapshotter.prepare(request.getKey(), request.getParent(), request.getLabelsMap());
          return PrepareSnapshotResponse.newBuilder().addAllMounts(proto(mounts)).build();
        });
  }

  @Override
  public void view(ViewSnapshotRequest request, StreamObserver<ViewSnapshotResponse> out) {
    answer(
        "view snapshot " + request.getKey(),
        out,
        () -> {
          var mounts =
              snapshotter.view(request.getKey(), request.getParent(), request.getLabelsMap());
          return ViewSnapshotResponse.newBuilder().addAllMounts(proto(mounts)).build();
        });
  }

  @Override
  public void mounts(MountsRequest request, StreamObserver<MountsResponse> out) {
    answer(
        "mounts of snapshot " + request.getKey(),
        out,
        () ->
            MountsResponse.newBuilder()
                .addAllMounts(proto(snapshotter.mounts(request.getKey())))
                .build());
  }

  @Override
  public void commit(CommitSnapshotRequest request, StreamObserver<Empty> out) {
    answer(
        "commit snapshot " + request.getKey() + " as " + request.getName(),
        out,
        () -> {
          snapshotter.commit(request.getName(), request.getKey(), request.getLabelsMap());
          return Empty.getDefaultInstance();
        });
  }

  @Override
  public void remove(RemoveSnapshotRequest request, StreamObserver<Empty> out) {
    answer(
        "remove snapshot " + request.getKey(),
        out,
        () -> {
          snapshotter.remove(request.getKey());
          return Empty.getDefaultInstance();
        });
  }

  @Override
  public void stat(StatSnapshotRequest request, StreamObserver<StatSnapshotResponse> out) {
    answer(
        "stat snapshot " + request.getKey(),
        out,
        () ->
            StatSnapshotResponse.newBuilder()
                .setInfo(info(snapshotter.stat(request.getKey())))
                .build());
  }

  @Override
  public void update(UpdateSnapshotRequest request, StreamObserver<UpdateSnapshotResponse> out) {
    answer(
        "update snapshot " + request.getInfo().getName(),
        out,
        () -> {
          Snapshot updated =
              snapshotter.update(
                  request.getInfo().getName(),
                  request.getInfo().getLabelsMap(),
                  request.getUpdateMask().getPathsList());
          return UpdateSnapshotResponse.newBuilder().setInfo(info(updated)).build();
        });
  }

  @Override
  public void usage(UsageRequest request, StreamObserver<UsageResponse> out) {
    answer(
        "usage of snapshot " + request.getKey(),
        out,
        () -> {
          Usage usage = snapshotter.usage(request.getKey());
          return UsageResponse.newBuilder().setSize(usage.size()).setInodes(usage.inodes()).build();
        });
  }

  @Override
  public void cleanup(CleanupRequest request, StreamObserver<Empty> out) {
    answer(
        "cleanup",
        out,
        () -> {
          snapshotter.cleanup();
          return Empty.getDefaultInstance();
        });
  }

  @Override
  public void list(ListSnapshotsRequest request, StreamObserver<ListSnapshotsResponse> out) {
    List<Snapshot> snapshots;
    try {
      snapshots = snapshotter.list(request.getFiltersList());
    } catch (SnapshotException e) {
      record("list", status(e));
      out.onError(status(e).withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (Exception e) {
      log.warn("list snapshots failed", e);
      record("list", Status.INTERNAL);
      out.onError(Status.INTERNAL.withDescription("list snapshots: " + e).asRuntimeException());
      return;
    }
    for (int start = 0; start < snapshots.size(); start += LIST_BATCH) {
      var batch = ListSnapshotsResponse.newBuilder();
      for (Snapshot snapshot :
          snapshots.subList(start, Math.min(snapshots.size(), start + LIST_BATCH))) {
        batch.addInfo(info(snapshot));
      }
      out.onNext(batch.build());
    }
    record("list", Status.OK);
    out.onCompleted();
  }

  private static List<Mount> proto(List<MountSpec> mounts) {
    return mounts.stream()
        .map(
            m ->
                Mount.newBuilder()
                    .setType(m.type())
                    .setSource(m.source())
                    .addAllOptions(m.options())
                    .build())
        .toList();
  }

  static Info info(Snapshot snapshot) {
    return Info.newBuilder()
        .setName(snapshot.key())
        .setParent(snapshot.parent() == null ? "" : snapshot.parent())
        .setKind(
            switch (snapshot.kind()) {
              case VIEW -> Kind.VIEW;
              case ACTIVE -> Kind.ACTIVE;
              case COMMITTED -> Kind.COMMITTED;
            })
        .setCreatedAt(timestamp(snapshot.created()))
        .setUpdatedAt(timestamp(snapshot.updated()))
        .putAllLabels(snapshot.labels())
        .build();
  }

  private static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }
}
