import NIOCore
import NIOHTTP1
import NIOPosix

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

    /// A connection that neither sends nor receives for this long is closed (a client that
    /// connects and goes silent holds nothing for ever).
    static let idleTimeout = TimeAmount.seconds(120)

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
        let storage = try RegistryStorage(root: configuration.root)
        let sessions = UploadSessions(storage: storage, timeoutSeconds: configuration.uploadTimeoutSeconds)
        io.start()
        let handler = RegistryHandler(storage: storage, sessions: sessions,
                                      authenticator: configuration.htpasswd.map { BasicAuthenticator(htpasswd: $0) }, io: io)
        let secure = configuration.secureConnection
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try secure?(channel)
                    try channel.pipeline.syncOperations.addHandlers([IdleStateHandler(allTimeout: RegistryServer.idleTimeout), IdleConnectionCloser()])
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 4, highWatermark: 16)))
                }
            }
        ready(server.channel.localAddress?.port ?? configuration.port)
        let zeroCopy = secure == nil
        let io = self.io
        let timeout = configuration.uploadTimeoutSeconds
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask {
                // Expired sessions and orphaned partial data go away while the server runs.
                while !Task.isCancelled {
                    await sessions.sweep()
                    try await Task.sleep(for: .seconds(max(1, min(60, timeout / 4))))
                }
            }
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    tasks.addTask {
                        await ServerConnection(channel: connection, handler: handler, io: io, zeroCopy: zeroCopy).serve()
                    }
                }
            }
        }
    }

    /// Stops the event loops and the I/O pool (after `run` returned).
    public func shutdown() async {
        try? await group.shutdownGracefully()
        try? await io.shutdownGracefully()
    }
}
