package dev.lazypull.snapshotter;

import dev.lazypull.snapshotter.SnapshotException.Reason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshots a containerd proxy plugin manages, laid out like containerd's overlayfs
 * snapshotter: {@code ROOT/snapshots/ID/fs} holds a snapshot's files, {@code
 * ROOT/snapshots/ID/work} is overlayfs's work dir, and {@code ROOT/metadata.db} holds the metadata.
 * Operations are serialised by one lock: containerd calls them rarely and each is short. Mounting a
 * remote layer (index and zTOC fetches) happens outside the lock, so that pulls of different images
 * proceed together; while it is under way its snapshot key is reserved and calls that need that key
 * wait for the mount to end.
 */
public final class Snapshotter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Snapshotter.class);

  private final Path snapshotsDir;
  private final SnapshotStore store;
  private final @Nullable RemoteLayerMounter remote;

  /** Keys of remote snapshots whose layer is being mounted outside the lock. */
  private final Set<String> mounting = new HashSet<>();

  private Snapshotter(Path snapshotsDir, SnapshotStore store, @Nullable RemoteLayerMounter remote) {
    this.snapshotsDir = snapshotsDir;
    this.store = store;
    this.remote = remote;
  }

  /** Opens the snapshotter state under {@code root} without remote layers (plain snapshots). */
  public static Snapshotter open(Path root) throws IOException {
    return open(root, null);
  }

  /**
   * Opens the snapshotter state under {@code root}, creating it when missing. With {@code remote},
   * image layers whose image has a SOCI index are mounted lazily instead of being downloaded, and
   * remote snapshots of an earlier run are mounted again now (or, when {@code remote}'s fd holder
   * kept their FUSE connections, served again as they are). The snapshotter closes {@code remote}.
   */
  public static Snapshotter open(Path root, @Nullable RemoteLayerMounter remote)
      throws IOException {
    Path snapshotsDir = root.resolve("snapshots");
    Files.createDirectories(snapshotsDir);
    SnapshotStore store;
    try {
      store = SnapshotStore.open(root.resolve("metadata.db"));
    } catch (SQLException e) {
      throw new IOException(
          "open snapshot metadata " + root.resolve("metadata.db") + ": " + e.getMessage(), e);
    }
    var snapshotter = new Snapshotter(snapshotsDir, store, remote);
    snapshotter.remountRemoteLayers();
    return snapshotter;
  }

  /**
   * Creates an active (writable) snapshot on {@code parent} ("" for none). When the labels name an
   * image layer that lazypull can serve, it commits a remote snapshot under the requested target
   * name instead and refuses with ALREADY_EXISTS, which tells containerd the layer is there.
   */
  public List<MountSpec> prepare(String key, String parent, Map<String, String> labels)
      throws SnapshotException, IOException {
    var request = RemoteLayerMounter.LayerRequest.of(labels);
    if (remote != null && request.isPresent()) {
      String target = labels.getOrDefault(SnapshotLabels.TARGET_REF, "");
      if (prepareRemote(target, parent, labels, request.get())) {
        throw new SnapshotException(
            Reason.ALREADY_EXISTS, "target snapshot " + target + " already exists (remote)");
      }
    }
    synchronized (this) {
      return createMounted(key, parent, SnapshotKind.ACTIVE, labels);
    }
  }

  /**
   * Commits a lazily mounted snapshot named {@code target}; false to fall back to a plain one. The
   * row is written and the key reserved under the lock, the layer mounted outside it.
   */
  private boolean prepareRemote(
      String target,
      String parent,
      Map<String, String> labels,
      RemoteLayerMounter.LayerRequest request)
      throws SnapshotException, IOException {
    RemoteLayerMounter mounter = java.util.Objects.requireNonNull(remote);
    Snapshot snapshot;
    synchronized (this) {
      awaitMounted(target);
      var existing = sql(() -> store.find(target));
      if (existing.isPresent()) {
        // Another namespace (or an earlier pull) made it: the same layer on the same parent.
        return existing.get().kind() == SnapshotKind.COMMITTED
            && java.util.Objects.equals(existing.get().parent(), parent.isEmpty() ? null : parent);
      }
      if (!parent.isEmpty() && get(parent).kind() != SnapshotKind.COMMITTED) {
        return false;
      }
      Map<String, String> remoteLabels = new HashMap<>(labels);
      remoteLabels.put(SnapshotLabels.REMOTE, request.layerDigest().toString());
      snapshot =
          sql(
              () ->
                  store.insert(
                      target,
                      parent.isEmpty() ? null : parent,
                      SnapshotKind.COMMITTED,
                      remoteLabels));
      mounting.add(target);
    }
    boolean mounted = false;
    try {
      Files.createDirectories(fsDir(snapshot.id()));
      mounted = mounter.mount(request, fsDir(snapshot.id()));
    } catch (IOException | dev.lazypull.registry.RegistryException | RuntimeException e) {
      log.warn(
          "serving layer {} of {} lazily failed, containerd will download it: {}",
          request.layerDigest(),
          request.image(),
          e.toString());
    } finally {
      synchronized (this) {
        if (!mounted) {
          sql(() -> store.delete(snapshot.id()));
          deleteDirectory(snapshot.id());
        }
        mounting.remove(target);
        notifyAll();
      }
    }
    return mounted;
  }

  /** Waits (releasing the lock) while the layer of snapshot {@code key} is being mounted. */
  private void awaitMounted(String key) throws IOException {
    while (mounting.contains(key)) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted waiting for the layer of snapshot " + key, e);
      }
    }
  }

  private void remountRemoteLayers() throws IOException {
    if (remote == null) {
      return;
    }
    for (Snapshot snapshot : sql(store::all)) {
      if (!snapshot.isRemote()) {
        continue;
      }
      try {
        ensureMounted(snapshot);
      } catch (SnapshotException e) {
        // Not fatal: the snapshot stays unmounted and is mounted again when next used.
        log.error("{}; trying again when a container uses it", e.getMessage());
      }
    }
    remote.releaseUnclaimed();
  }

  /**
   * Mounts the layer of remote snapshot {@code snapshot} unless it is mounted: after a restart
   * whose remount failed (registry down), an unmounted layer is an empty directory, which overlayfs
   * would serve as a layer without files. Such a snapshot is refused with UNAVAILABLE instead.
   */
  private void ensureMounted(Snapshot snapshot) throws SnapshotException, IOException {
    if (remote == null || !snapshot.isRemote() || remote.isMounted(fsDir(snapshot.id()))) {
      return;
    }
    var request = RemoteLayerMounter.LayerRequest.of(snapshot.labels());
    String why;
    try {
      if (request.isPresent() && remote.mount(request.get(), fsDir(snapshot.id()))) {
        return;
      }
      why =
          request.isPresent() ? "its image has no SOCI index any more" : "its labels name no layer";
    } catch (IOException | dev.lazypull.registry.RegistryException | RuntimeException e) {
      why = e.getMessage() == null ? e.toString() : e.getMessage();
    }
    throw new SnapshotException(
        Reason.UNAVAILABLE,
        "mount layer "
            + snapshot.labels().get(SnapshotLabels.REMOTE)
            + " of remote snapshot "
            + snapshot.key()
            + ": "
            + why
            + "; check the registry, then retry");
  }

  /** Creates a read-only view of {@code parent} ("" for an empty view). */
  public synchronized List<MountSpec> view(String key, String parent, Map<String, String> labels)
      throws SnapshotException, IOException {
    return createMounted(key, parent, SnapshotKind.VIEW, labels);
  }

  public synchronized List<MountSpec> mounts(String key) throws SnapshotException, IOException {
    return mounts(get(key));
  }

  /** Turns active snapshot {@code key} into committed snapshot {@code name}. */
  public synchronized void commit(String name, String key, Map<String, String> labels)
      throws SnapshotException, IOException {
    Snapshot active = get(key);
    if (active.kind() != SnapshotKind.ACTIVE) {
      throw new SnapshotException(
          Reason.FAILED_PRECONDITION, "snapshot " + key + " is not active, cannot commit it");
    }
    requireFree(name);
    Map<String, String> merged = new HashMap<>(active.labels());
    merged.putAll(labels);
    Usage usage = DiskUsage.of(fsDir(active.id()));
    sql(() -> store.commit(active.id(), name, merged, usage));
  }

  /** Removes a snapshot and its directory; refused while another snapshot names it as parent. */
  public synchronized void remove(String key) throws SnapshotException, IOException {
    Snapshot snapshot = get(key);
    if (sql(() -> store.hasChildren(key))) {
      throw new SnapshotException(
          Reason.FAILED_PRECONDITION, "cannot remove snapshot " + key + ": it has children");
    }
    if (snapshot.isRemote() && remote != null) {
      remote.unmount(fsDir(snapshot.id()));
    }
    sql(() -> store.delete(snapshot.id()));
    deleteDirectory(snapshot.id());
  }

  public synchronized Snapshot stat(String key) throws SnapshotException, IOException {
    return get(key);
  }

  /**
   * Updates labels of {@code key}. {@code paths} empty replaces all labels; "labels" does the same;
   * "labels.NAME" sets or (absent from {@code labels}) removes one label.
   */
  public synchronized Snapshot update(String key, Map<String, String> labels, List<String> paths)
      throws SnapshotException, IOException {
    Snapshot snapshot = get(key);
    Map<String, String> updated = new HashMap<>(snapshot.labels());
    if (paths.isEmpty() || paths.contains("labels")) {
      updated = new HashMap<>(labels);
    } else {
      for (String path : paths) {
        if (!path.startsWith("labels.")) {
          throw new SnapshotException(
              Reason.INVALID_ARGUMENT, "cannot update field " + path + " of snapshot " + key);
        }
        String label = path.substring("labels.".length());
        String value = labels.get(label);
        if (value == null) {
          updated.remove(label);
        } else {
          updated.put(label, value);
        }
      }
    }
    Map<String, String> result = updated;
    sql(() -> store.updateLabels(snapshot.id(), result));
    return get(key);
  }

  /** Bytes and inodes of the snapshot's own layer (measured now for an active snapshot). */
  public synchronized Usage usage(String key) throws SnapshotException, IOException {
    Snapshot snapshot = get(key);
    return snapshot.kind() == SnapshotKind.ACTIVE
        ? DiskUsage.of(fsDir(snapshot.id()))
        : snapshot.usage();
  }

  /** Snapshots matching any of {@code filters} (all when there are none). */
  public synchronized List<Snapshot> list(List<String> filters)
      throws SnapshotException, IOException {
    List<SnapshotFilter> parsed = new ArrayList<>();
    for (String filter : filters) {
      parsed.add(SnapshotFilter.parse(filter));
    }
    return sql(store::all).stream()
        .filter(s -> parsed.isEmpty() || parsed.stream().anyMatch(f -> f.matches(s)))
        .toList();
  }

  /** Deletes directories no snapshot owns any more (left by a failed removal or a crash). */
  public synchronized void cleanup() throws IOException {
    Set<String> owned = new HashSet<>();
    for (Snapshot snapshot : sql(store::all)) {
      owned.add(Long.toString(snapshot.id()));
    }
    try (Stream<Path> dirs = Files.list(snapshotsDir)) {
      for (Path dir : dirs.toList()) {
        if (!owned.contains(dir.getFileName().toString())) {
          log.info("removing orphaned snapshot directory {}", dir);
          Path fs = dir.resolve("fs");
          if (remote != null && remote.isMounted(fs)) {
            remote.unmount(fs); // its row is gone (a failed removal), its layer still served
          } else {
            dev.lazypull.fuse.FuseMount.detachDeadMount(fs);
          }
          if (isMountPoint(fs)) {
            // Never delete through a mount lazypull does not own.
            log.warn("not removing {}: something else is mounted at {}", dir, fs);
            continue;
          }
          DiskUsage.deleteTree(dir);
        }
      }
    }
  }

  private static boolean isMountPoint(Path dir) throws IOException {
    if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    Object device = Files.getAttribute(dir, "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS);
    Object parentDevice =
        Files.getAttribute(dir.getParent(), "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS);
    return !device.equals(parentDevice);
  }

  @Override
  public synchronized void close() throws IOException {
    if (remote != null) {
      remote.close();
    }
    sql(store::close);
  }

  /** Creates a snapshot and answers its mounts; nothing is left when a layer cannot be mounted. */
  private List<MountSpec> createMounted(
      String key, String parent, SnapshotKind kind, Map<String, String> labels)
      throws SnapshotException, IOException {
    Snapshot snapshot = create(key, parent, kind, labels);
    try {
      return mounts(snapshot);
    } catch (SnapshotException | IOException | RuntimeException e) {
      sql(() -> store.delete(snapshot.id()));
      deleteDirectory(snapshot.id());
      throw e;
    }
  }

  private Snapshot create(String key, String parent, SnapshotKind kind, Map<String, String> labels)
      throws SnapshotException, IOException {
    if (key.isEmpty()) {
      throw new SnapshotException(Reason.INVALID_ARGUMENT, "a snapshot key must not be empty");
    }
    requireFree(key);
    if (!parent.isEmpty()) {
      Snapshot parentSnapshot = get(parent);
      if (parentSnapshot.kind() != SnapshotKind.COMMITTED) {
        throw new SnapshotException(
            Reason.INVALID_ARGUMENT, "parent " + parent + " of " + key + " is not committed");
      }
    }
    Snapshot snapshot =
        sql(() -> store.insert(key, parent.isEmpty() ? null : parent, kind, labels));
    try {
      Files.createDirectories(fsDir(snapshot.id()));
      if (kind == SnapshotKind.ACTIVE) {
        Files.createDirectories(workDir(snapshot.id()));
      }
    } catch (IOException e) {
      sql(() -> store.delete(snapshot.id()));
      deleteDirectory(snapshot.id());
      throw e;
    }
    return snapshot;
  }

  private List<MountSpec> mounts(Snapshot snapshot) throws SnapshotException, IOException {
    ensureMounted(snapshot);
    List<Path> lowerDirs = new ArrayList<>();
    for (String parent = snapshot.parent(); parent != null; ) {
      Snapshot ancestor = get(parent);
      ensureMounted(ancestor);
      lowerDirs.add(fsDir(ancestor.id()));
      parent = ancestor.parent();
    }
    Path ownDir = fsDir(snapshot.id());
    if (snapshot.kind() == SnapshotKind.ACTIVE) {
      if (lowerDirs.isEmpty()) {
        return List.of(new MountSpec("bind", ownDir.toString(), List.of("rw", "rbind")));
      }
      return List.of(
          new MountSpec(
              "overlay",
              "overlay",
              List.of(
                  "workdir=" + workDir(snapshot.id()),
                  "upperdir=" + ownDir,
                  "lowerdir=" + join(lowerDirs))));
    }
    if (snapshot.kind() == SnapshotKind.COMMITTED) {
      lowerDirs.addFirst(ownDir);
    }
    if (lowerDirs.isEmpty()) {
      return List.of(new MountSpec("bind", ownDir.toString(), List.of("ro", "rbind")));
    }
    if (lowerDirs.size() == 1) {
      return List.of(
          new MountSpec("bind", lowerDirs.getFirst().toString(), List.of("ro", "rbind")));
    }
    // overlayfs with lower dirs only (no upperdir) is read-only by itself.
    return List.of(new MountSpec("overlay", "overlay", List.of("lowerdir=" + join(lowerDirs))));
  }

  private static String join(List<Path> dirs) {
    return String.join(":", dirs.stream().map(Path::toString).toList());
  }

  private Snapshot get(String key) throws SnapshotException, IOException {
    awaitMounted(key);
    @Nullable Snapshot snapshot = sql(() -> store.find(key)).orElse(null);
    if (snapshot == null) {
      throw SnapshotException.notFound("snapshot " + key);
    }
    return snapshot;
  }

  private void requireFree(String key) throws SnapshotException, IOException {
    if (sql(() -> store.find(key)).isPresent()) {
      throw SnapshotException.alreadyExists(key);
    }
  }

  private Path fsDir(long id) {
    return snapshotsDir.resolve(Long.toString(id)).resolve("fs");
  }

  private Path workDir(long id) {
    return snapshotsDir.resolve(Long.toString(id)).resolve("work");
  }

  private void deleteDirectory(long id) {
    Path dir = snapshotsDir.resolve(Long.toString(id));
    try {
      DiskUsage.deleteTree(dir);
    } catch (IOException | UncheckedIOException e) {
      // The metadata is gone already; Cleanup deletes the directory later.
      log.warn("removing snapshot directory {} failed, Cleanup will retry: {}", dir, e.toString());
    }
  }

  private interface SqlAction<T> {
    T run() throws SQLException;
  }

  private interface SqlVoidAction {
    void run() throws SQLException;
  }

  private static <T> T sql(SqlAction<T> action) throws IOException {
    try {
      return action.run();
    } catch (SQLException e) {
      throw new IOException("snapshot metadata database: " + e.getMessage(), e);
    }
  }

  private static void sql(SqlVoidAction action) throws IOException {
    try {
      action.run();
    } catch (SQLException e) {
      throw new IOException("snapshot metadata database: " + e.getMessage(), e);
    }
  }
}
