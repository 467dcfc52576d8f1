import OCI
import Replication

/// The replication queue as the registry's storage writes to it. Every write that makes
/// something visible (or invisible) is recorded durably just before the rename that publishes
/// it; `published` runs after the publish, to wake the forwarder. A write whose record fails is
/// refused, so nothing becomes visible that replication does not know about.
struct ReplicationJournal: Sendable {
    let queue: any ReplicationQueue
    let published: @Sendable () -> Void

    /// Records `actions` of `repository` durably, before they are published.
    func record(_ repository: String, _ actions: [ReplicationAction]) throws {
        do {
            try queue.append(actions.map { ReplicationChange(repository: repository, action: $0) })
        } catch {
            throw RegistryServerError.storage(reason: "the write was refused because it could not be queued for replication: \(error)")
        }
    }
}

/// The registry's own storage as the source of replication (`serve --replicate-to`).
public struct StorageSource: ReplicationSource {
    let storage: RegistryStorage

    init(storage: RegistryStorage) {
        self.storage = storage
    }

    /// The storage under a registry root, read only (a server may be running on it).
    public init(root: String) throws {
        storage = try RegistryStorage(root: root)
    }

    public func manifest(_ repository: String, _ digest: Digest) async throws -> SourceManifest? {
        guard let stored = try? storage.manifest(repository, .digest(digest)) else { return nil }
        return SourceManifest(bytes: stored.bytes, mediaType: stored.mediaType)
    }

    public func tag(_ repository: String, _ tag: String) async throws -> Digest? {
        storage.resolve(repository, tag: tag)
    }

    public func repositories() async throws -> [String] {
        storage.repositories()
    }

    public func tags(_ repository: String) async throws -> [String] {
        (try? storage.tags(repository)) ?? []
    }

    public func blobSize(_ repository: String, _ digest: Digest) async throws -> Int64? {
        storage.blobSize(repository, digest)
    }

    public func withBlobFile<T: Sendable>(_ repository: String, _ descriptor: Descriptor, _ body: @Sendable (String) async throws -> T) async throws -> T {
        try await body(storage.blobFile(descriptor.digest))
    }
}

/// `GET /metrics`: replication's status in Prometheus's text format.
struct MetricsEndpoint: Sendable {
    let queue: any ReplicationQueue
    let metrics: ReplicationMetrics

    /// The current metrics, or a 503 naming the queue's failure.
    func response() async -> ServerResponse {
        do {
            let body = metrics.render(try await queue.status())
            return ServerResponse(status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: .bytes(body))
        } catch {
            return ServerResponse(status: .serviceUnavailable, headers: [("Content-Type", "text/plain; charset=utf-8")],
                                  body: .bytes(Array("\(error)\n".utf8)))
        }
    }
}
