#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GRDB

/// The embedded queue: one SQLite database in WAL mode (through GRDB) with
/// `synchronous=FULL`, so a commit is on disk when `append` returns. Cursor bookkeeping
/// (claims, deliveries, failures) commits with `synchronous=NORMAL`: WAL keeps the database
/// consistent, the next append's sync makes it durable too, and a cursor update lost in a
/// power failure only makes delivery repeat, which is idempotent. Several processes may
/// open the same file (the registry appending, `replication status` reading); writes take
/// SQLite's write lock at their start (`BEGIN IMMEDIATE`), which makes a claim atomic.
public final class SQLiteReplicationQueue: ReplicationQueue {
    private let pool: DatabasePool
    /// The database file.
    public let path: String

    /// Opens (creating and migrating when needed) the queue at `path`.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try SQLiteReplicationQueue.migrator.migrate(pool)
        } catch {
            throw ReplicationError.queueUnavailable(location: path, reason: "\(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, repository TEXT NOT NULL, kind TEXT NOT NULL,
                                     digest TEXT, tag TEXT, recorded_at REAL NOT NULL);
                CREATE INDEX events_by_repository ON events(repository, id);
                CREATE TABLE heads (repository TEXT PRIMARY KEY, last_event INTEGER NOT NULL);
                CREATE TABLE destinations (name TEXT PRIMARY KEY, url TEXT NOT NULL, last_error TEXT, last_error_at REAL,
                                           last_delivered_at REAL);
                CREATE TABLE cursors (destination TEXT NOT NULL, repository TEXT NOT NULL, delivered INTEGER NOT NULL DEFAULT 0,
                                      attempts INTEGER NOT NULL DEFAULT 0, retry_at REAL NOT NULL DEFAULT 0, last_error TEXT,
                                      claimed_by TEXT, claimed_until REAL NOT NULL DEFAULT 0,
                                      PRIMARY KEY (destination, repository));
                """)
        }
        return migrator
    }

    private func guarded<T>(_ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw ReplicationError.queueUnavailable(location: path, reason: "\(error)")
        }
    }

    private func guarded<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw ReplicationError.queueUnavailable(location: path, reason: "\(error)")
        }
    }

    /// A write transaction of cursor bookkeeping, committed without waiting for the disk.
    private func bookkeeping<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await guarded {
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
                var value: T?
                try db.inTransaction(.immediate) {
                    value = try body(db)
                    return .commit
                }
                guard let value else { throw ReplicationError.queueUnavailable(location: path, reason: "a transaction returned nothing") }
                return value
            }
        }
    }

    public func append(_ changes: [ReplicationChange]) throws {
        guard !changes.isEmpty else { return }
        let now = WallClock.now
        try guarded {
            try pool.write { db in
                for change in changes {
                    try db.execute(sql: "INSERT INTO events (repository, kind, digest, tag, recorded_at) VALUES (?, ?, ?, ?, ?)",
                                   arguments: [change.repository, change.action.kind, change.action.digest?.description, change.action.tag, now])
                    try db.execute(sql: "INSERT INTO heads (repository, last_event) VALUES (?, ?) ON CONFLICT(repository) DO UPDATE SET last_event = excluded.last_event",
                                   arguments: [change.repository, db.lastInsertedRowID])
                }
            }
        }
    }

    public func register(destinations: [(name: String, url: String)]) async throws {
        let entries = destinations.map { [$0.name, $0.url] }
        try await guarded {
            try await pool.write { db in
                for entry in entries {
                    try db.execute(sql: "INSERT INTO destinations (name, url) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET url = excluded.url",
                                   arguments: [entry[0], entry[1]])
                }
            }
        }
    }

    public func claim(destination: String, owner: String, limit: Int, lease: Double) async throws -> [RepositoryClaim] {
        let now = WallClock.now
        return try await bookkeeping { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT h.repository, COALESCE(c.delivered, 0) AS delivered, COALESCE(c.attempts, 0) AS attempts
                FROM heads h LEFT JOIN cursors c ON c.destination = ? AND c.repository = h.repository
                WHERE h.last_event > COALESCE(c.delivered, 0) AND COALESCE(c.retry_at, 0) <= ?
                  AND (c.claimed_by IS NULL OR c.claimed_by = ? OR c.claimed_until < ?)
                ORDER BY h.last_event LIMIT ?
                """, arguments: [destination, now, owner, now, limit])
            var claims: [RepositoryClaim] = []
            for row in rows {
                let claim = RepositoryClaim(repository: row["repository"], delivered: row["delivered"], attempts: row["attempts"])
                try db.execute(sql: """
                    INSERT INTO cursors (destination, repository, claimed_by, claimed_until) VALUES (?, ?, ?, ?)
                    ON CONFLICT(destination, repository) DO UPDATE SET claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until
                    """, arguments: [destination, claim.repository, owner, now + lease])
                claims.append(claim)
            }
            return claims
        }
    }

    public func events(repository: String, after: Int64, limit: Int) async throws -> [ReplicationEvent] {
        try await guarded {
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, kind, digest, tag, recorded_at FROM events WHERE repository = ? AND id > ? ORDER BY id LIMIT ?",
                                 arguments: [repository, after, limit]).map { row in
                    let id: Int64 = row["id"]
                    guard let action = ReplicationAction(kind: row["kind"], digest: row["digest"], tag: row["tag"]) else {
                        throw ReplicationError.unknownEvent(id: id, kind: row["kind"])
                    }
                    return ReplicationEvent(id: id, change: ReplicationChange(repository: repository, action: action), recordedAt: row["recorded_at"])
                }
            }
        }
    }

    public func hasLaterEvent(about event: ReplicationEvent) async throws -> Bool {
        let (kinds, key, column) = ReplicationAction.sameObject(event.change.action)
        let placeholders = kinds.map { _ in "?" }.joined(separator: ", ")
        let arguments = StatementArguments([event.change.repository, event.id, key] as [DatabaseValueConvertible]) + StatementArguments(kinds)
        return try await guarded {
            try await pool.read { db in
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM events WHERE repository = ? AND id > ? AND \(column) = ? AND kind IN (\(placeholders)))",
                                  arguments: arguments) ?? false
            }
        }
    }

    public func delivered(destination: String, repository: String, through eventID: Int64, owner: String, lease: Double) async throws -> Bool {
        let now = WallClock.now
        return try await bookkeeping { db in
            try db.execute(sql: """
                UPDATE cursors SET delivered = MAX(delivered, ?), attempts = 0, retry_at = 0, last_error = NULL, claimed_until = ?
                WHERE destination = ? AND repository = ? AND claimed_by = ?
                """, arguments: [eventID, now + lease, destination, repository, owner])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "UPDATE destinations SET last_delivered_at = ? WHERE name = ?", arguments: [now, destination])
            return true
        }
    }

    public func failed(destination: String, repository: String, owner: String, error: String, retryAt: Double) async throws {
        try await bookkeeping { db in
            try db.execute(sql: """
                UPDATE cursors SET attempts = attempts + 1, retry_at = ?, last_error = ?, claimed_by = NULL, claimed_until = 0
                WHERE destination = ? AND repository = ? AND claimed_by = ?
                """, arguments: [retryAt, error, destination, repository, owner])
        }
    }

    public func release(destination: String, repository: String, owner: String) async throws {
        try await bookkeeping { db in
            try db.execute(sql: "UPDATE cursors SET claimed_by = NULL, claimed_until = 0 WHERE destination = ? AND repository = ? AND claimed_by = ?",
                           arguments: [destination, repository, owner])
        }
    }

    public func releaseClaims(of owner: String) async throws {
        try await bookkeeping { db in
            try db.execute(sql: "UPDATE cursors SET claimed_by = NULL, claimed_until = 0 WHERE claimed_by = ?", arguments: [owner])
        }
    }

    public func destinationError(_ destination: String, error: String?) async throws {
        let now = WallClock.now
        try await bookkeeping { db in
            try db.execute(sql: "UPDATE destinations SET last_error = ?, last_error_at = ? WHERE name = ?",
                           arguments: [error, error == nil ? nil : now, destination])
        }
    }

    public func status() async throws -> [ReplicationStatus] {
        let now = WallClock.now
        return try await guarded {
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT name, url, last_error, last_delivered_at FROM destinations ORDER BY name").map { row in
                    let name: String = row["name"]
                    let pending = try Int.fetchOne(db, sql: """
                        SELECT COUNT(*) FROM events e LEFT JOIN cursors c ON c.destination = ? AND c.repository = e.repository
                        WHERE e.id > COALESCE(c.delivered, 0)
                        """, arguments: [name]) ?? 0
                    let oldest = try Row.fetchOne(db, sql: """
                        SELECT e.repository, e.kind, e.digest, e.tag, e.recorded_at FROM events e
                        LEFT JOIN cursors c ON c.destination = ? AND c.repository = e.repository
                        WHERE e.id > COALESCE(c.delivered, 0) ORDER BY e.id LIMIT 1
                        """, arguments: [name])
                    let failing = try Row.fetchOne(db, sql: """
                        SELECT COUNT(*) AS n, (SELECT last_error FROM cursors WHERE destination = ? AND last_error IS NOT NULL
                                               ORDER BY retry_at DESC LIMIT 1) AS latest
                        FROM cursors WHERE destination = ? AND last_error IS NOT NULL
                        """, arguments: [name, name])
                    var described: String?
                    var lag = 0.0
                    if let oldest {
                        let action = ReplicationAction(kind: oldest["kind"], digest: oldest["digest"], tag: oldest["tag"])
                        described = "\(oldest["repository"] as String): \(action?.description ?? oldest["kind"] as String)"
                        lag = max(0, now - (oldest["recorded_at"] as Double))
                    }
                    let destinationError: String? = row["last_error"]
                    let repositoryError: String? = failing?["latest"]
                    return ReplicationStatus(name: name, url: row["url"], pendingEvents: pending, lagSeconds: lag, oldestUndelivered: described,
                                             failingRepositories: failing?["n"] ?? 0, lastError: destinationError ?? repositoryError,
                                             lastDeliveredAt: row["last_delivered_at"])
                }
            }
        }
    }

    public func rewind(destination: String) async throws {
        try await guarded {
            try await pool.write { db in
                try db.execute(sql: "UPDATE cursors SET delivered = 0, attempts = 0, retry_at = 0, last_error = NULL WHERE destination = ?",
                               arguments: [destination])
            }
        }
    }
}

/// Wall-clock seconds since the epoch, the queue's unit of time.
enum WallClock {
    static var now: Double { Date().timeIntervalSince1970 }
}
