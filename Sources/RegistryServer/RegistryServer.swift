import BerthSystem
import NIOCore
import NIOHTTP1
import NIOPosix
import Replication

/// The registry's HTTP/1.1 server (distribution spec v1.1) on SwiftNIO: one task per
/// connection, requests on a connection served in turn, bodies streamed with backpressure.
///
/// Guarantees: many clients are served at once (event loops for the sockets, a thread pool for
/// the file system); a client that stops mid-request costs nothing but its own session; the
/// root is held by a lock file for as long as the server runs, so a second server or `gc`
/// refuses to touch it.
public final class RegistryServer: Sendable {
    /// What the server needs to run.
    public struct Configuration: Sendable {
        /// Address to listen on.
        public var host: String
        /// Port to listen on; 0 picks a free one (reported to `run`'s `ready`).
        public var port: Int
        /// The registry's root directory.
        public var root: String
        /// Upload sessions idle this long are removed.
        public var uploadTimeoutSeconds: Int
        /// htpasswd file; nil for no authentication.
        public var htpasswd: HTPasswd?
        /// Adds TLS (or anything else) at the front of each connection's pipeline; nil for plain
        /// HTTP. Blobs are then sent through the pipeline rather than with `sendfile`.
        public var secureConnection: (@Sendable (Channel) throws -> Void)?
        /// Where every accepted write is replicated to; nil for nowhere.
        public var replication: Replicating?

        /// A configuration; see each property.
        public init(host: String, port: Int, root: String, uploadTimeoutSeconds: Int = 3600, htpasswd: HTPasswd? = nil,
                    secureConnection: (@Sendable (Channel) throws -> Void)? = nil) {
            self.host = host
            self.port = port
            self.root = root
            self.uploadTimeoutSeconds = uploadTimeoutSeconds
            self.htpasswd = htpasswd
            self.secureConnection = secureConnection
        }
    }

    /// Replication of the registry's writes to other registries (`serve --replicate-to`).
    public struct Replicating: Sendable {
        /// The registries written to.
        public var destinations: [ReplicationDestination]
        /// The forwarder's tuning.
        public var options: ReplicationForwarder.Options
        /// Where the forwarder reports failures.
        public var log: @Sendable (String) -> Void
        /// The queue (`ReplicationQueues.open`); nil is the root's embedded one.
        public var queue: String?

        /// Settings; see each property.
        public init(destinations: [ReplicationDestination], options: ReplicationForwarder.Options, queue: String? = nil,
                    log: @escaping @Sendable (String) -> Void) {
            self.destinations = destinations
            self.options = options
            self.queue = queue
            self.log = log
        }
    }

    /// The embedded replication queue of the registry rooted at `root`.
    public static func replicationQueuePath(root: String) -> String { root + "/replication.db" }

    private let configuration: Configuration
    private let group: MultiThreadedEventLoopGroup
    private let io: NIOThreadPool

    /// A server for `configuration`; nothing is bound until `run`.
    public init(configuration: Configuration) {
        self.configuration = configuration
        group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        io = NIOThreadPool(numberOfThreads: max(4, System.coreCount * 2))
    }

    /// Locks the root, binds, calls `ready` with the bound port, and serves until cancelled.
    public func run(ready: @Sendable (Int) -> Void = { _ in }) async throws {
        let lock = try RootLock(root: configuration.root)
        defer { lock.release() }
        var storage = try RegistryStorage(root: configuration.root)
        var forwarder: ReplicationForwarder?
        var metrics: MetricsEndpoint?
        if let replication = configuration.replication {
            let queue = try ReplicationQueues.open(replication.queue ?? RegistryServer.replicationQueuePath(root: configuration.root))
            let started = ReplicationForwarder(queue: queue, source: StorageSource(storage: storage), destinations: replication.destinations,
                                               identity: ReplicationForwarder.identity(of: Paths.absolute(configuration.root)), options: replication.options,
                                               log: replication.log)
            storage.journal = ReplicationJournal(queue: queue, published: { started.wake() })
            forwarder = started
            metrics = MetricsEndpoint(queue: queue, metrics: started.metrics)
        }
        let sessions = UploadSessions(storage: storage, timeoutSeconds: configuration.uploadTimeoutSeconds)
        io.start()
        let handler = RegistryHandler(storage: storage, sessions: sessions,
                                      authenticator: configuration.htpasswd.map { BasicAuthenticator(htpasswd: $0) }, io: io, metrics: metrics)
        let secure = configuration.secureConnection
        let server = try await HTTPListener.bind(group: group, host: configuration.host, port: configuration.port, secure: secure)
        ready(server.channel.localAddress?.port ?? configuration.port)
        let zeroCopy = secure == nil
        let io = self.io
        let timeout = configuration.uploadTimeoutSeconds
        try await withThrowingDiscardingTaskGroup { tasks in
            if let forwarder {
                tasks.addTask { try await forwarder.run() }
            }
            tasks.addTask {
                // Expired sessions and orphaned partial data go away while the server runs.
                while !Task.isCancelled {
                    await sessions.sweep()
                    try await Task.sleep(for: .seconds(max(1, min(60, timeout / 4))))
                }
            }
            try await HTTPListener.serve(server, responder: handler, io: io, zeroCopy: zeroCopy, tasks: &tasks)
        }
    }

    /// Stops the event loops and the I/O pool (after `run` returned).
    public func shutdown() async {
        try? await group.shutdownGracefully()
        try? await io.shutdownGracefully()
    }
}
