/// The shared queue: tables in a PostgreSQL database (`--queue postgres://…`), so that several
/// registry processes append to one queue and several forwarders deliver it.
///
/// Guarantees beyond `ReplicationQueue`'s:
/// - Appends of one repository commit in the order of their event numbers (a transaction lock
///   per repository), so a forwarder never moves a cursor past an event that commits later.
/// - Claims lock the cursor rows they take with `FOR UPDATE SKIP LOCKED`: two forwarders
///   claiming at once get different repositories and never wait on each other.
/// - Appends are synchronous commits (fsynced by the server under its default
///   `synchronous_commit`); cursor bookkeeping commits asynchronously, since a cursor lost in a
///   crash of the database only makes delivery repeat, which is idempotent.
///
/// Times are the callers' clocks, as in the embedded queue: the hosts of a shared queue are
/// expected to keep their clocks in step (NTP).
public final class PostgresReplicationQueue: ReplicationQueue {
    private let pool: PostgresPool

    /// Whether `location` names a PostgreSQL queue rather than a SQLite file.
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// Connects to the database at `url` and creates the queue's tables when missing.
    public init(url: String) throws {
        pool = PostgresPool(url: url)
        try guarded {
            try pool.withConnection { connection in
                try connection.transaction { db in
                    try db.execute("SELECT pg_advisory_xact_lock(\(PostgresReplicationQueue.lockSpace), 0)")
                    try db.execute(PostgresReplicationQueue.schema)
                }
            }
        }
    }

    /// The first key of every advisory lock the queue takes ("BRTH").
    private static let lockSpace = 0x4252_5448

    private static let schema = """
        CREATE TABLE IF NOT EXISTS berth_replication_events (
            id BIGSERIAL PRIMARY KEY, repository TEXT NOT NULL, kind TEXT NOT NULL, digest TEXT, tag TEXT,
            recorded_at DOUBLE PRECISION NOT NULL);
        CREATE INDEX IF NOT EXISTS berth_replication_events_by_repository ON berth_replication_events (repository, id);
        CREATE TABLE IF NOT EXISTS berth_replication_heads (repository TEXT PRIMARY KEY, last_event BIGINT NOT NULL);
        CREATE TABLE IF NOT EXISTS berth_replication_destinations (
            name TEXT PRIMARY KEY, url TEXT NOT NULL, last_error TEXT, last_error_at DOUBLE PRECISION,
            last_delivered_at DOUBLE PRECISION);
        CREATE TABLE IF NOT EXISTS berth_replication_cursors (
            destination TEXT NOT NULL, repository TEXT NOT NULL, delivered BIGINT NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0, retry_at DOUBLE PRECISION NOT NULL DEFAULT 0, last_error TEXT,
            claimed_by TEXT, claimed_until DOUBLE PRECISION NOT NULL DEFAULT 0, PRIMARY KEY (destination, repository));
        """

    private func guarded<T>(_ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw ReplicationError.queueUnavailable(location: pool.location, reason: "\(error)")
        }
    }

    /// Runs `body` in a transaction on a pool thread; `bookkeeping` transactions commit
    /// without waiting for the server's fsync.
    @discardableResult
    private func transaction<T: Sendable>(bookkeeping: Bool = true, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let location = pool.location
        do {
            return try await pool.run { connection in
                try connection.transaction { db in
                    if bookkeeping { try db.execute("SET LOCAL synchronous_commit = off") }
                    return try body(db)
                }
            }
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw ReplicationError.queueUnavailable(location: location, reason: "\(error)")
        }
    }

    public func append(_ changes: [ReplicationChange]) throws {
        guard !changes.isEmpty else { return }
        let now = String(WallClock.now)
        try guarded {
            try pool.withConnection { connection in
                try connection.transaction { db in
                    for repository in Set(changes.map(\.repository)).sorted() {
                        try db.execute("SELECT pg_advisory_xact_lock(\(PostgresReplicationQueue.lockSpace), hashtext($1))", [repository])
                    }
                    for change in changes {
                        let inserted = try db.execute("""
                            INSERT INTO berth_replication_events (repository, kind, digest, tag, recorded_at)
                            VALUES ($1, $2, $3, $4, $5) RETURNING id
                            """, [change.repository, change.action.kind, change.action.digest?.description, change.action.tag, now])
                        try db.execute("""
                            INSERT INTO berth_replication_heads (repository, last_event) VALUES ($1, $2)
                            ON CONFLICT (repository) DO UPDATE SET last_event = EXCLUDED.last_event
                            """, [change.repository, inserted.rows.first?.first ?? nil])
                    }
                }
            }
        }
    }

    public func register(destinations: [(name: String, url: String)]) async throws {
        let entries = destinations.map { [$0.name, $0.url] }
        try await transaction { db in
            for entry in entries {
                try db.execute("""
                    INSERT INTO berth_replication_destinations (name, url) VALUES ($1, $2)
                    ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url
                    """, entry)
            }
        }
    }

    public func claim(destination: String, owner: String, limit: Int, lease: Double) async throws -> [RepositoryClaim] {
        let now = WallClock.now
        return try await transaction { db in
            try db.execute("""
                INSERT INTO berth_replication_cursors (destination, repository)
                SELECT $1, h.repository FROM berth_replication_heads h
                WHERE NOT EXISTS (SELECT 1 FROM berth_replication_cursors c WHERE c.destination = $1 AND c.repository = h.repository)
                ON CONFLICT DO NOTHING
                """, [destination])
            let rows = try db.execute("""
                SELECT c.repository, c.delivered, c.attempts FROM berth_replication_cursors c
                JOIN berth_replication_heads h ON h.repository = c.repository
                WHERE c.destination = $1 AND h.last_event > c.delivered AND c.retry_at <= $2
                  AND (c.claimed_by IS NULL OR c.claimed_by = $3 OR c.claimed_until < $2)
                ORDER BY h.last_event LIMIT $4
                FOR UPDATE OF c SKIP LOCKED
                """, [destination, String(now), owner, String(limit)]).rows
            return try rows.map { row in
                try db.execute("""
                    UPDATE berth_replication_cursors SET claimed_by = $3, claimed_until = $4 WHERE destination = $1 AND repository = $2
                    """, [destination, row[0], owner, String(now + lease)])
                return RepositoryClaim(repository: row[0] ?? "", delivered: Int64(row[1] ?? "") ?? 0, attempts: Int(row[2] ?? "") ?? 0)
            }
        }
    }

    public func events(repository: String, after: Int64, limit: Int) async throws -> [ReplicationEvent] {
        try await transaction { db in
            try db.execute("""
                SELECT id, kind, digest, tag, recorded_at FROM berth_replication_events WHERE repository = $1 AND id > $2 ORDER BY id LIMIT $3
                """, [repository, String(after), String(limit)]).rows.map { row in
                let id = Int64(row[0] ?? "") ?? 0
                guard let action = ReplicationAction(kind: row[1] ?? "", digest: row[2], tag: row[3]) else {
                    throw ReplicationError.unknownEvent(id: id, kind: row[1] ?? "")
                }
                return ReplicationEvent(id: id, change: ReplicationChange(repository: repository, action: action), recordedAt: Double(row[4] ?? "") ?? 0)
            }
        }
    }

    public func hasLaterEvent(about event: ReplicationEvent) async throws -> Bool {
        let (kinds, key, column) = ReplicationAction.sameObject(event.change.action)
        let placeholders = kinds.indices.map { "$\($0 + 4)" }.joined(separator: ", ")
        let parameters = [event.change.repository, String(event.id), key] + kinds
        return try await transaction { db in
            try db.execute("""
                SELECT EXISTS (SELECT 1 FROM berth_replication_events WHERE repository = $1 AND id > $2 AND \(column) = $3 AND kind IN (\(placeholders)))
                """, parameters).rows.first?.first == "t"
        }
    }

    public func delivered(destination: String, repository: String, through eventID: Int64, owner: String, lease: Double) async throws -> Bool {
        let now = WallClock.now
        return try await transaction { db in
            let moved = try db.execute("""
                UPDATE berth_replication_cursors SET delivered = GREATEST(delivered, $1), attempts = 0, retry_at = 0, last_error = NULL,
                       claimed_until = $2
                WHERE destination = $3 AND repository = $4 AND claimed_by = $5
                """, [String(eventID), String(now + lease), destination, repository, owner]).affected
            guard moved == 1 else { return false }
            try db.execute("UPDATE berth_replication_destinations SET last_delivered_at = $1 WHERE name = $2", [String(now), destination])
            return true
        }
    }

    public func failed(destination: String, repository: String, owner: String, error: String, retryAt: Double) async throws {
        try await transaction { db in
            try db.execute("""
                UPDATE berth_replication_cursors SET attempts = attempts + 1, retry_at = $1, last_error = $2, claimed_by = NULL, claimed_until = 0
                WHERE destination = $3 AND repository = $4 AND claimed_by = $5
                """, [String(retryAt), error, destination, repository, owner])
        }
    }

    public func release(destination: String, repository: String, owner: String) async throws {
        try await transaction { db in
            try db.execute("""
                UPDATE berth_replication_cursors SET claimed_by = NULL, claimed_until = 0
                WHERE destination = $1 AND repository = $2 AND claimed_by = $3
                """, [destination, repository, owner])
        }
    }

    public func releaseClaims(of owner: String) async throws {
        try await transaction { db in
            try db.execute("UPDATE berth_replication_cursors SET claimed_by = NULL, claimed_until = 0 WHERE claimed_by = $1", [owner])
        }
    }

    public func destinationError(_ destination: String, error: String?) async throws {
        let now = WallClock.now
        try await transaction { db in
            try db.execute("UPDATE berth_replication_destinations SET last_error = $1, last_error_at = $2 WHERE name = $3",
                           [error, error == nil ? nil : String(now), destination])
        }
    }

    public func status() async throws -> [ReplicationStatus] {
        let now = WallClock.now
        return try await transaction { db in
            try db.execute("SELECT name, url, last_error, last_delivered_at FROM berth_replication_destinations ORDER BY name").rows.map { row in
                let name = row[0] ?? ""
                let pending = try db.execute("""
                    SELECT COUNT(*) FROM berth_replication_events e
                    LEFT JOIN berth_replication_cursors c ON c.destination = $1 AND c.repository = e.repository
                    WHERE e.id > COALESCE(c.delivered, 0)
                    """, [name]).rows.first?.first ?? nil
                let oldest = try db.execute("""
                    SELECT e.repository, e.kind, e.digest, e.tag, e.recorded_at FROM berth_replication_events e
                    LEFT JOIN berth_replication_cursors c ON c.destination = $1 AND c.repository = e.repository
                    WHERE e.id > COALESCE(c.delivered, 0) ORDER BY e.id LIMIT 1
                    """, [name]).rows.first
                let failing = try db.execute("""
                    SELECT COUNT(*), (SELECT last_error FROM berth_replication_cursors WHERE destination = $1 AND last_error IS NOT NULL
                                      ORDER BY retry_at DESC LIMIT 1)
                    FROM berth_replication_cursors WHERE destination = $1 AND last_error IS NOT NULL
                    """, [name]).rows.first
                var described: String?
                var lag = 0.0
                if let oldest {
                    let action = ReplicationAction(kind: oldest[1] ?? "", digest: oldest[2], tag: oldest[3])
                    described = "\(oldest[0] ?? ""): \(action?.description ?? oldest[1] ?? "")"
                    lag = max(0, now - (Double(oldest[4] ?? "") ?? now))
                }
                return ReplicationStatus(name: name, url: row[1] ?? "", pendingEvents: Int(pending ?? "") ?? 0, lagSeconds: lag,
                                         oldestUndelivered: described, failingRepositories: Int(failing?[0] ?? "") ?? 0,
                                         lastError: row[2] ?? failing?[1] ?? nil, lastDeliveredAt: row[3].flatMap { Double($0) })
            }
        }
    }

    public func rewind(destination: String) async throws {
        try await transaction(bookkeeping: false) { db in
            try db.execute("""
                UPDATE berth_replication_cursors SET delivered = 0, attempts = 0, retry_at = 0, last_error = NULL WHERE destination = $1
                """, [destination])
        }
    }
}
