import NIOCore
import NIOHTTP1
import NIOPosix
import Replication

/// The stand-alone forwarder (`berth-registry replicate`): receives the notifications an
/// existing registry sends, queues them, and runs a forwarder that replicates from that
/// registry to the destinations.
public final class NotificationServer: Sendable {
    private let host: String
    private let port: Int
    private let queue: any ReplicationQueue
    private let forwarder: ReplicationForwarder
    private let group: MultiThreadedEventLoopGroup
    private let io: NIOThreadPool

    /// A server on `host:port` appending to `queue`, with `forwarder` delivering it.
    public init(host: String, port: Int, queue: any ReplicationQueue, forwarder: ReplicationForwarder) {
        self.host = host
        self.port = port
        self.queue = queue
        self.forwarder = forwarder
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        io = NIOThreadPool(numberOfThreads: 2)
    }

    /// Binds, calls `ready` with the bound port, and serves and forwards until cancelled.
    public func run(ready: @Sendable (Int) -> Void = { _ in }) async throws {
        io.start()
        let forwarder = self.forwarder
        let responder = NotificationResponder(queue: queue, metrics: MetricsEndpoint(queue: queue, metrics: forwarder.metrics),
                                              appended: { forwarder.wake() }, io: io)
        let server = try await HTTPListener.bind(group: group, host: host, port: port, secure: nil)
        ready(server.channel.localAddress?.port ?? port)
        let io = self.io
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { try await forwarder.run() }
            try await HTTPListener.serve(server, responder: responder, io: io, zeroCopy: true, tasks: &tasks)
        }
    }

    /// Stops the event loop and the I/O pool (after `run` returned).
    public func shutdown() async {
        try? await group.shutdownGracefully()
        try? await io.shutdownGracefully()
    }
}

/// The stand-alone forwarder's HTTP side: takes the notifications a registry sends (`POST`,
/// any path) into the queue before answering 200, so a notification the registry saw
/// acknowledged is durable; serves `/metrics` too.
struct NotificationResponder: RequestResponder {
    let queue: any ReplicationQueue
    let metrics: MetricsEndpoint
    let appended: @Sendable () -> Void
    let io: NIOThreadPool

    func respond(to request: ServerRequest, body: RequestBody) async -> ServerResponse {
        if request.path == "/metrics", request.method == .GET { return await metrics.response() }
        guard request.method == .POST else {
            return NotificationResponder.text(.methodNotAllowed, "notifications are POSTed (docker-distribution's endpoint format)")
        }
        var bytes: [UInt8] = []
        do {
            while let chunk = try await body.next() {
                guard bytes.count + chunk.readableBytes <= DistributionNotification.sizeLimit else {
                    return NotificationResponder.text(.payloadTooLarge, "a notification envelope is at most \(DistributionNotification.sizeLimit) bytes")
                }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
            let changes = try DistributionNotification.changes(fromEnvelope: bytes)
            let queue = self.queue
            try await io.runIfActive { try queue.append(changes) }
            appended()
            return NotificationResponder.text(.ok, "queued \(changes.count) changes")
        } catch let error as ReplicationError {
            if case .invalidNotification = error { return NotificationResponder.text(.badRequest, "\(error)") }
            return NotificationResponder.text(.serviceUnavailable, "\(error)")
        } catch {
            return NotificationResponder.text(.badRequest, "the notification could not be read: \(error)")
        }
    }

    private static func text(_ status: HTTPResponseStatus, _ message: String) -> ServerResponse {
        ServerResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: .bytes(Array((message + "\n").utf8)))
    }
}
