import NIOCore
import NIOHTTP1

/// The body of the request being served, read as a stream of buffers straight from the
/// connection: NIO stops reading the socket while the handler has not asked for more, so a
/// large upload never accumulates in memory.
///
/// Used by one task at a time (the connection's).
final class RequestBody {
    private var iterator: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    private let channel: Channel
    /// Whether the body was read to its end (the connection can serve another request).
    public private(set) var finished = true
    private var continueNeeded = false

    init(iterator: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator, channel: Channel) {
        self.iterator = iterator
        self.channel = channel
    }

    /// The next request head, or nil when the client closed the connection.
    func nextHead() async throws -> HTTPRequestHead? {
        while true {
            switch try await iterator.next() {
            case .head(let head)?:
                finished = false
                continueNeeded = head.headers["Expect"].contains { $0.lowercased() == "100-continue" }
                return head
            case nil:
                return nil
            default:
                continue
            }
        }
    }

    /// The next piece of the body, nil at its end. Throws `RequestBody.Truncated` when the
    /// connection closes before the end.
    func next() async throws -> ByteBuffer? {
        guard !finished else { return nil }
        if continueNeeded {
            // The client waits for this before sending a body (curl does for large uploads).
            continueNeeded = false
            try await channel.writeAndFlush(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .continue))).get()
        }
        while true {
            let part: HTTPServerRequestPart?
            do {
                part = try await iterator.next()
            } catch {
                throw Truncated()
            }
            switch part {
            case .body(let buffer)?:
                if buffer.readableBytes > 0 { return buffer }
            case .end?:
                finished = true
                return nil
            case .head?, nil:
                throw Truncated()
            }
        }
    }

    /// Reads and discards up to `limit` bytes of what is left, so the connection can be reused;
    /// returns whether the end was reached.
    func drain(limit: Int) async -> Bool {
        guard !finished else { return true }
        // A client waiting for 100-continue never sent the body: the connection cannot be reused.
        guard !continueNeeded else { return false }
        var seen = 0
        while seen <= limit {
            guard let buffer = try? await next() else { return finished }
            seen += buffer.readableBytes
        }
        return false
    }

    /// The connection closed in the middle of the body.
    struct Truncated: Error {}
}
