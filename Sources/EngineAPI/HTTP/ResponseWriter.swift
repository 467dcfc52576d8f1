import BerthSystem
import Engine
import NIOCore
import NIOHTTP1

/// Writes an `APIResponse` to a channel as HTTP/1.1, with the headers docker sends on every
/// response (`Api-Version`, `Server`, `Ostype`, …).
struct ResponseWriter {
    let channel: Channel

    static func standardHeaders() -> [(String, String)] {
        [("Api-Version", APIVersion.current.description), ("Docker-Experimental", "false"), ("Ostype", "linux"),
         ("Server", "Berth/\(BerthVersion.version) (linux)")]
    }

    /// Writes `response` and ends the exchange: with `keepAlive` the channel goes back to
    /// reading the next request, else it is closed once the response is out. A plain response
    /// is handed to the event loop in one piece and not waited for (each wait is a wake-up of
    /// this thread and of the loop's, most of the cost of a small request).
    func respond(_ response: APIResponse, keepAlive: Bool) async {
        switch response {
        case .data(let status, let contentType, let body, let extra):
            var headers = HTTPHeaders(Self.standardHeaders() + extra)
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.count))
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            writeOnLoop(HTTPResponseHead(version: .http1_1, status: status, headers: headers), body: body, keepAlive: keepAlive)
        case .empty(let status):
            var headers = HTTPHeaders(Self.standardHeaders())
            if status != .notModified && status != .noContent { headers.add(name: "Content-Length", value: "0") }
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            writeOnLoop(HTTPResponseHead(version: .http1_1, status: status, headers: headers), body: [], keepAlive: keepAlive)
        case .stream(let status, let contentType, let extra, let producer):
            var headers = HTTPHeaders(Self.standardHeaders() + extra)
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Transfer-Encoding", value: "chunked")
            let channel = self.channel
            try? await channel.writeAndFlush(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))).get()
            let writer = StreamWriter { bytes in
                guard channel.isActive else { throw ClientGone() }
                do {
                    try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes)))).get()
                } catch {
                    throw ClientGone()
                }
            }
            do {
                try await producer(writer)
            } catch is ClientGone {
                return
            } catch {
                let message = "\(error)"
                try? await writer.writeJSON(ProgressError(message: message))
            }
            try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
            finish(keepAlive: keepAlive)
        case .hijack:
            break
        }
    }

    /// Head, body and end in one turn of the channel's event loop, then the end of the exchange.
    private func writeOnLoop(_ head: HTTPResponseHead, body: [UInt8], keepAlive: Bool) {
        let channel = self.channel
        channel.eventLoop.execute {
            channel.write(HTTPServerResponsePart.head(head), promise: nil)
            if !body.isEmpty { channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
            let written = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
            if keepAlive {
                channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            } else {
                written.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    /// Reads the next request or closes the connection.
    private func finish(keepAlive: Bool) {
        if keepAlive {
            channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        } else {
            channel.close(promise: nil)
        }
    }
}

/// docker's in-stream error object: `{"errorDetail":{"message":…},"error":…}`.
struct ProgressError: Encodable {
    struct Detail: Encodable { var message: String }
    var errorDetail: Detail
    var error: String

    init(message: String) {
        errorDetail = Detail(message: message)
        error = message
    }
}
