/// A repository whose changes one forwarder may deliver to one destination until `leaseUntil`.
public struct RepositoryClaim: Sendable, Equatable {
    /// The repository.
    public var repository: String
    /// The last event of it the destination has (0: none).
    public var delivered: Int64
    /// Failed attempts since the last delivery, for back-off.
    public var attempts: Int
}

/// The durable queue of accepted writes and, per destination and repository, how far delivery
/// has got (its cursor).
///
/// Guarantees every implementation gives:
/// - `append` returns only once its changes are durable (committed and synced), numbered after
///   every change appended before it; the changes of one call are appended together or not at all.
/// - A claim gives one forwarder (an `owner`) a destination's repository until its lease ends;
///   while it lasts no other owner is given it, so no event is delivered by two forwarders at once.
/// - A cursor only moves forward, and only for the owner holding the claim.
public protocol ReplicationQueue: Sendable {
    /// Appends changes durably; blocks until synced (call it off event loops).
    func append(_ changes: [ReplicationChange]) throws

    /// Makes sure the queue knows these destinations (name → URL shown in status). A new
    /// destination starts from the first event still in the queue.
    func register(destinations: [(name: String, url: String)]) async throws

    /// Claims up to `limit` repositories with undelivered events for `destination` whose
    /// back-off has passed and which no other owner holds, for `lease` seconds.
    func claim(destination: String, owner: String, limit: Int, lease: Double) async throws -> [RepositoryClaim]

    /// Up to `limit` events of `repository` after event `after`, in order.
    func events(repository: String, after: Int64, limit: Int) async throws -> [ReplicationEvent]

    /// Whether the queue holds an event after `event` about the same object of the same
    /// repository (the same tag; the same digest as a blob or as a manifest).
    func hasLaterEvent(about event: ReplicationEvent) async throws -> Bool

    /// Moves the cursor of `destination`'s `repository` to `eventID`, resets its failures and
    /// renews the lease. Returns false (and moves nothing) when `owner` lost the claim.
    func delivered(destination: String, repository: String, through eventID: Int64, owner: String, lease: Double) async throws -> Bool

    /// Records a failed delivery: the repository waits until `retryAt` and the error shows in
    /// status. Ends the claim.
    func failed(destination: String, repository: String, owner: String, error: String, retryAt: Double) async throws

    /// Ends `owner`'s claim on the repository without recording anything.
    func release(destination: String, repository: String, owner: String) async throws

    /// Ends every claim `owner` holds: a forwarder restarting under the same identity takes
    /// back at once what its previous process held, instead of waiting out the leases.
    func releaseClaims(of owner: String) async throws

    /// Records a destination-wide failure (the destination unreachable), for status; nil clears it.
    func destinationError(_ destination: String, error: String?) async throws

    /// How far behind each known destination is.
    func status() async throws -> [ReplicationStatus]

    /// Moves every cursor of `destination` back to the start, so the whole queue is delivered
    /// again (idempotent delivery makes that change nothing at a destination that is in sync).
    func rewind(destination: String) async throws
}

/// How far one destination is behind the queue.
public struct ReplicationStatus: Sendable, Codable, Equatable {
    /// The destination's name.
    public var name: String
    /// Its URL as configured.
    public var url: String
    /// Events not yet delivered.
    public var pendingEvents: Int
    /// Age in seconds of the oldest undelivered event (0 when none).
    public var lagSeconds: Double
    /// The oldest undelivered event, `repository: action`.
    public var oldestUndelivered: String?
    /// Repositories whose last attempt failed.
    public var failingRepositories: Int
    /// The most recent failure (destination-wide, else of a repository), nil when none.
    public var lastError: String?
    /// When the last event was delivered, seconds since the epoch.
    public var lastDeliveredAt: Double?

    /// A status; see each property.
    public init(name: String, url: String, pendingEvents: Int, lagSeconds: Double, oldestUndelivered: String?,
                failingRepositories: Int, lastError: String?, lastDeliveredAt: Double?) {
        self.name = name
        self.url = url
        self.pendingEvents = pendingEvents
        self.lagSeconds = lagSeconds
        self.oldestUndelivered = oldestUndelivered
        self.failingRepositories = failingRepositories
        self.lastError = lastError
        self.lastDeliveredAt = lastDeliveredAt
    }
}

/// The queue implementations, chosen by how a queue is named.
public enum ReplicationQueues {
    /// Opens the queue `location` names: a `postgres://` (or `postgresql://`) URL is a shared
    /// PostgreSQL queue, anything else the path of an embedded SQLite file (created if missing).
    public static func open(_ location: String) throws -> any ReplicationQueue {
        if PostgresReplicationQueue.isPostgres(location) { return try PostgresReplicationQueue(url: location) }
        return try SQLiteReplicationQueue(path: location)
    }
}
