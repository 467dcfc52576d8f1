import NIOCore
import NIOHTTP1
import NIOPosix

/// Answers one request of a connection (the registry's API, the notification receiver).
protocol RequestResponder: Sendable {
    /// The response to `request`, reading its body from `body` where the endpoint takes one.
    func respond(to request: ServerRequest, body: RequestBody) async -> ServerResponse
}

/// Binds HTTP/1.1 listeners and serves their connections, one task per connection.
enum HTTPListener {
    /// A connection that neither sends nor receives for this long is closed (a client that
    /// connects and goes silent holds nothing for ever).
    static let idleTimeout = TimeAmount.seconds(120)

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Listens on `host:port`, each connection's pipeline starting with `secure` when given.
    static func bind(group: any EventLoopGroup, host: String, port: Int,
                     secure: (@Sendable (Channel) throws -> Void)?) async throws -> NIOAsyncChannel<Connection, Never> {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try secure?(channel)
                    try channel.pipeline.syncOperations.addHandlers([IdleStateHandler(allTimeout: HTTPListener.idleTimeout), IdleConnectionCloser()])
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel,
                                          configuration: .init(backPressureStrategy: .init(lowWatermark: 4, highWatermark: 16)))
                }
            }
    }

    /// Serves every connection of `server` with `responder` in a task of `tasks`, until the
    /// listener closes or the tasks are cancelled.
    static func serve(_ server: NIOAsyncChannel<Connection, Never>, responder: any RequestResponder, io: NIOThreadPool, zeroCopy: Bool,
                      tasks: inout ThrowingDiscardingTaskGroup<any Error>) async throws {
        try await server.executeThenClose { connections in
            for try await connection in connections {
                tasks.addTask {
                    await ServerConnection(channel: connection, handler: responder, io: io, zeroCopy: zeroCopy).serve()
                }
            }
        }
    }
}

/// One client connection: reads requests in turn, answers each, and keeps the connection only
/// when the request's body was read to its end.
struct ServerConnection {
    let channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    let handler: any RequestResponder
    let io: NIOThreadPool
    let zeroCopy: Bool

    /// The most of an unread body discarded to keep a connection alive.
    static let drainLimit = 1 << 20
    /// The most of an unread body discarded after an answer, before the connection is closed.
    static let lingerLimit = 64 << 20

    func serve() async {
        try? await channel.executeThenClose { inbound, _ in
            let body = RequestBody(iterator: inbound.makeAsyncIterator(), channel: channel.channel)
            let sender = ResponseSender(channel: channel.channel, io: io, zeroCopy: zeroCopy)
            while let head = try await body.nextHead() {
                let request = ServerRequest(method: head.method, uri: head.uri, headers: head.headers)
                let response = await handler.respond(to: request, body: body)
                let complete = await body.drain(limit: ServerConnection.drainLimit)
                let keepAlive = head.isKeepAlive && complete
                try await sender.send(response, keepAlive: keepAlive)
                if !complete {
                    // A client that sends its whole body before reading (most do) would see the
                    // connection reset instead of the answer: read and discard what it still
                    // sends, up to a limit, after the answer is out.
                    try? await channel.channel.close(mode: .output).get()
                    _ = await body.drain(limit: ServerConnection.lingerLimit)
                }
                if !keepAlive { return }
            }
        }
    }
}

/// Closes a connection when `IdleStateHandler` reports it idle.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
