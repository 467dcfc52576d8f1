import NIOCore
import NIOHTTP1
import NIOPosix

/// One client connection: reads requests in turn, answers each, and keeps the connection only
/// when the request's body was read to its end.
struct ServerConnection {
    let channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    let handler: RegistryHandler
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
