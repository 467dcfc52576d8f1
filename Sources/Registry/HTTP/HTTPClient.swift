import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

/// What a request sends after its head.
public enum HTTPRequestBody: Sendable {
    /// Bytes in memory (manifests, tokens).
    case bytes([UInt8])
    /// `length` bytes of the file at `path` from `offset`, streamed (blob uploads).
    case file(path: String, offset: Int64, length: Int64)

    var length: Int64 {
        switch self {
        case .bytes(let bytes): return Int64(bytes.count)
        case .file(_, _, let length): return length
        }
    }
}

/// One HTTP/1.1 request.
public struct HTTPRequest: Sendable {
    /// The method.
    public var method: HTTPMethod
    /// Where the request goes (scheme, host, port, target).
    public var url: HTTPURL
    /// Headers besides `Host`, `User-Agent`, `Connection` and `Content-Length`, which the client sets.
    public var headers: [(String, String)]
    /// The body, or nil for none.
    public var body: HTTPRequestBody?

    /// A request as given.
    public init(_ method: HTTPMethod, _ url: HTTPURL, headers: [(String, String)] = [], body: HTTPRequestBody? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// The status line and headers of a response.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The response headers.
    public var headers: HTTPHeaders

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? { headers.first(name: name) }
}

/// A response body being received. `next()` returns chunks as they arrive and nil at the end;
/// it throws `RegistryError.truncated`-style protocol errors when the connection breaks first.
public struct ResponseBody {
    private var iterator: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let host: String
    private var finished = false

    init(iterator: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator, host: String) {
        self.iterator = iterator
        self.host = host
    }

    /// The next chunk of the body, or nil once it is complete.
    public mutating func next() async throws -> ByteBuffer? {
        guard !finished else { return nil }
        while true {
            let part = try await HTTPClient.next(&iterator, host: host, failure: "the response body was cut off")
            switch part {
            case .body(let buffer)?:
                if buffer.readableBytes > 0 { return buffer }
            case .end?:
                finished = true
                return nil
            case .head?:
                throw RegistryError.protocolError(host: host, reason: "a second response head arrived")
            case nil:
                throw RegistryError.protocolError(host: host, reason: "the connection closed before the response ended")
            }
        }
    }

    /// The whole body, refusing more than `limit` bytes (read at most `limit + 1`).
    public mutating func collect(limit: Int, what: String) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let chunk = try await next() {
            guard bytes.count + chunk.readableBytes <= limit else { throw RegistryError.tooLarge(what: what, limit: Int64(limit)) }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }
}

/// A minimal HTTP/1.1 client on SwiftNIO's codec: one connection per request (closed after
/// it), plain TCP. Written here rather than taken from AsyncHTTPClient because that library
/// links all of Foundation into the daemon (tens of MB and several MiB of RSS); NIO's HTTP
/// codec does the parsing.
public struct HTTPClient: Sendable {
    let group: any EventLoopGroup
    /// How HTTPS servers are checked.
    public var tls = TLSPolicy(verify: true)
    /// Connecting may take this long.
    public var connectTimeout: TimeAmount = .seconds(15)
    /// The server may stay silent this long while a response is awaited or received.
    public var readTimeout: TimeAmount = .seconds(60)

    /// A client on `group`'s event loops, checking HTTPS servers as `tls` says.
    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, tls: TLSPolicy = TLSPolicy(verify: true)) {
        self.group = group
        self.tls = tls
    }

    /// Sends `request` and passes the response head and its body stream to `handle`, whose
    /// result is returned. The connection is closed when `handle` returns; an unread body is
    /// discarded.
    ///
    /// A `GET` or `HEAD` whose connection the server closed before it took the request is sent
    /// once more on a new connection (nothing was received, so nothing can be done twice).
    public func execute<T: Sendable>(_ request: HTTPRequest,
                                     _ handle: (HTTPResponse, inout ResponseBody) async throws -> T) async throws -> T {
        do {
            return try await executeOnce(request, handle)
        } catch let failure as SendFailure {
            guard request.method == .GET || request.method == .HEAD else { throw failure.error }
            try await Task.sleep(nanoseconds: 50_000_000)
            do {
                return try await executeOnce(request, handle)
            } catch let again as SendFailure {
                throw again.error
            }
        }
    }

    /// The request could not be written: the server never took it.
    private struct SendFailure: Error {
        var error: RegistryError
    }

    private func executeOnce<T: Sendable>(_ request: HTTPRequest,
                                          _ handle: (HTTPResponse, inout ResponseBody) async throws -> T) async throws -> T {
        let url = request.url
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            let readTimeout = self.readTimeout
            let tls = url.secure ? self.tls : nil
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: url.host, port: url.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try tls?.addHandler(to: channel, host: url.host)
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandlers([IdleStateHandler(readTimeout: readTimeout), ReadTimeoutCloser(host: url.authority)])
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw RegistryError.unreachable(host: url.authority, reason: HTTPClient.describe(error))
        }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: url.target)
            head.headers.add(name: "Host", value: url.authority)
            head.headers.add(name: "User-Agent", value: "berth/0.1")
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in request.headers { head.headers.add(name: name, value: value) }
            if let body = request.body { head.headers.replaceOrAdd(name: "Content-Length", value: "\(body.length)") }
            do {
                try await outbound.write(.head(head))
                switch request.body {
                case .bytes(let bytes)? where !bytes.isEmpty:
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                case let .file(path, offset, length)?:
                    try await HTTPClient.stream(path: path, offset: offset, length: length, to: outbound)
                default:
                    break
                }
                try await outbound.write(.end(nil))
            } catch let error as RegistryError {
                throw error
            } catch {
                throw SendFailure(error: RegistryError.notAnswered(host: url.authority, reason: "sending the request failed (\(error))"))
            }
            var iterator = inbound.makeAsyncIterator()
            var responseHead: HTTPResponseHead?
            while responseHead == nil {
                let part = try await HTTPClient.next(&iterator, host: url.authority, failure: "no valid HTTP response")
                switch part {
                case .head(let h)?:
                    // 1xx answers are informational; the real head follows.
                    if h.status.code >= 200 { responseHead = h }
                case nil:
                    throw RegistryError.notAnswered(host: url.authority, reason: "the connection closed without a response")
                default:
                    throw RegistryError.protocolError(host: url.authority, reason: "a body arrived before the response head")
                }
            }
            let response = HTTPResponse(status: Int(responseHead!.status.code), headers: responseHead!.headers)
            var body = ResponseBody(iterator: iterator, host: url.authority)
            return try await handle(response, &body)
        }
    }

    /// The next response part; a channel error becomes `protocolError` with `failure` as reason.
    static func next(_ iterator: inout NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator,
                     host: String, failure: String) async throws -> HTTPClientResponsePart? {
        do {
            return try await iterator.next()
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError.protocolError(host: host, reason: "\(failure) (\(error))")
        }
    }

    /// Writes `length` bytes of `path` from `offset` as body parts, 1 MiB at a time; each write
    /// waits for the channel, so a slow server slows the reading.
    static func stream(path: String, offset: Int64, length: Int64, to outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>) async throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RegistryError.malformed(what: "upload source \(path)", reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var position = offset
        let end = offset + length
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while position < end {
            let wanted = Int(min(Int64(buffer.count), end - position))
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, off_t(position)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw RegistryError.malformed(what: "upload source \(path)", reason: "it ended \(end - position) bytes early") }
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: buffer[0..<n]))))
            position += Int64(n)
        }
    }

    /// A short reason for a failed connection (`Connection refused`), not NIO's full report.
    static func describe(_ error: Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "the host name does not resolve" }
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? ChannelError, case .connectTimeout = error { return "connection timed out" }
        return "\(error)"
    }
}

/// Turns the read-idle event into an error on the channel, so a silent server fails the
/// request instead of hanging it.
final class ReadTimeoutCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let host: String

    init(host: String) { self.host = host }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.fireErrorCaught(RegistryError.protocolError(host: host, reason: "the registry stopped sending (read timeout)"))
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
