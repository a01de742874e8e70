package dev.lazypull.snapshotter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Snapshot metadata in one SQLite file, so that snapshots survive a restart. Every method is one
 * statement or one transaction; the store is used under the snapshotter's lock.
 */
final class SnapshotStore implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<TreeMap<String, String>> LABELS = new TypeReference<>() {};
  private static final String COLUMNS =
      "id, key, parent, kind, created_nanos, updated_nanos, labels, usage_size, usage_inodes";

  private final Connection connection;

  private SnapshotStore(Connection connection) {
    this.connection = connection;
  }

  /** Opens (creating if needed) the metadata database at {@code file}. */
  static SnapshotStore open(Path file) throws SQLException {
    Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file);
    try (var statement = connection.createStatement()) {
      // WAL plus synchronous=NORMAL: a crash loses at most the last commits, never the file.
      statement.execute("PRAGMA journal_mode=WAL");
      statement.execute("PRAGMA synchronous=NORMAL");
      statement.execute(
          """
          CREATE TABLE IF NOT EXISTS snapshots (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,
            parent TEXT,
            kind TEXT NOT NULL,
            created_nanos INTEGER NOT NULL,
            updated_nanos INTEGER NOT NULL,
            labels TEXT NOT NULL,
            usage_size INTEGER NOT NULL DEFAULT 0,
            usage_inodes INTEGER NOT NULL DEFAULT 0)
          """);
      statement.execute("CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent)");
    } catch (SQLException e) {
      connection.close();
      throw e;
    }
    return new SnapshotStore(connection);
  }

  Optional<Snapshot> find(String key) throws SQLException {
    try (var query =
        connection.prepareStatement("SELECT " + COLUMNS + " FROM snapshots WHERE key = ?")) {
      query.setString(1, key);
      return first(query);
    }
  }

  List<Snapshot> all() throws SQLException {
    try (var query =
        connection.prepareStatement("SELECT " + COLUMNS + " FROM snapshots ORDER BY id")) {
      return rows(query);
    }
  }

  boolean hasChildren(String key) throws SQLException {
    try (var query = connection.prepareStatement("SELECT 1 FROM snapshots WHERE parent = ?")) {
      query.setString(1, key);
      try (ResultSet rows = query.executeQuery()) {
        return rows.next();
      }
    }
  }

  /** Inserts a snapshot and returns it with its new id; the key must be free. */
  Snapshot insert(
      String key, @Nullable String parent, SnapshotKind kind, Map<String, String> labels)
      throws SQLException {
    Instant now = Instant.now();
    try (var insert =
        connection.prepareStatement(
            "INSERT INTO snapshots (key, parent, kind, created_nanos, updated_nanos, labels)"
                + " VALUES (?, ?, ?, ?, ?, ?) RETURNING id")) {
      insert.setString(1, key);
      insert.setString(2, parent);
      insert.setString(3, kind.name());
      insert.setLong(4, nanos(now));
      insert.setLong(5, nanos(now));
      insert.setString(6, json(labels));
      try (ResultSet ids = insert.executeQuery()) {
        ids.next();
        return new Snapshot(ids.getLong(1), key, parent, kind, now, now, labels, Usage.NONE);
      }
    }
  }

  /** Renames an active snapshot to its committed name and records its final usage. */
  /**
   * Renames the snapshot and makes it committed. Like containerd's own snapshotters, a commit makes
   * a new snapshot: created and updated are both the commit's time (containerd's snapshot test
   * suite checks that they are equal).
   */
  void commit(long id, String name, Map<String, String> labels, Usage usage) throws SQLException {
    long nowNanos = nanos(Instant.now());
    try (var update =
        connection.prepareStatement(
            "UPDATE snapshots SET key = ?, kind = ?, labels = ?, usage_size = ?,"
                + " usage_inodes = ?, created_nanos = ?, updated_nanos = ? WHERE id = ?")) {
      update.setString(1, name);
      update.setString(2, SnapshotKind.COMMITTED.name());
      update.setString(3, json(labels));
      update.setLong(4, usage.size());
      update.setLong(5, usage.inodes());
      update.setLong(6, nowNanos);
      update.setLong(7, nowNanos);
      update.setLong(8, id);
      update.executeUpdate();
    }
  }

  void updateLabels(long id, Map<String, String> labels) throws SQLException {
    try (var update =
        connection.prepareStatement(
            "UPDATE snapshots SET labels = ?, updated_nanos = ? WHERE id = ?")) {
      update.setString(1, json(labels));
      update.setLong(2, nanos(Instant.now()));
      update.setLong(3, id);
      update.executeUpdate();
    }
  }

  void delete(long id) throws SQLException {
    try (var delete = connection.prepareStatement("DELETE FROM snapshots WHERE id = ?")) {
      delete.setLong(1, id);
      delete.executeUpdate();
    }
  }

  @Override
  public void close() throws SQLException {
    connection.close();
  }

  private static Optional<Snapshot> first(PreparedStatement query) throws SQLException {
    List<Snapshot> found = rows(query);
    return found.isEmpty() ? Optional.empty() : Optional.of(found.getFirst());
  }

  private static List<Snapshot> rows(PreparedStatement query) throws SQLException {
    List<Snapshot> snapshots = new ArrayList<>();
    try (ResultSet rows = query.executeQuery()) {
      while (rows.next()) {
        snapshots.add(
            new Snapshot(
                rows.getLong("id"),
                rows.getString("key"),
                rows.getString("parent"),
                SnapshotKind.valueOf(rows.getString("kind")),
                instant(rows.getLong("created_nanos")),
                instant(rows.getLong("updated_nanos")),
                labels(rows.getString("labels")),
                new Usage(rows.getLong("usage_size"), rows.getLong("usage_inodes"))));
      }
    }
    return snapshots;
  }

  private static String json(Map<String, String> labels) throws SQLException {
    try {
      return JSON.writeValueAsString(new TreeMap<>(labels));
    } catch (JsonProcessingException e) {
      throw new SQLException("cannot encode snapshot labels as JSON", e);
    }
  }

  private static Map<String, String> labels(String json) throws SQLException {
    try {
      return JSON.readValue(json, LABELS);
    } catch (JsonProcessingException e) {
      throw new SQLException("snapshot labels in the metadata database are not JSON", e);
    }
  }

  private static long nanos(Instant instant) {
    return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
  }

  private static Instant instant(long nanos) {
    return Instant.ofEpochSecond(
        Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
  }
}
