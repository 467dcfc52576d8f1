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

    func write(_ response: APIResponse, keepAlive: Bool) async {
        switch response {
        case .data(let status, let contentType, let body, let extra):
            var headers = HTTPHeaders(Self.standardHeaders() + extra)
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.count))
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            await writeOnLoop(HTTPResponseHead(version: .http1_1, status: status, headers: headers), body: body)
        case .empty(let status):
            var headers = HTTPHeaders(Self.standardHeaders())
            if status != .notModified && status != .noContent { headers.add(name: "Content-Length", value: "0") }
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            await writeOnLoop(HTTPResponseHead(version: .http1_1, status: status, headers: headers), body: [])
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
        case .hijack:
            break
        }
    }

    /// Head, body and end in one turn of the channel's event loop (one wake-up of it, rather
    /// than one per part from this thread).
    private func writeOnLoop(_ head: HTTPResponseHead, body: [UInt8]) async {
        let channel = self.channel
        try? await channel.eventLoop.flatSubmit {
            channel.write(HTTPServerResponsePart.head(head), promise: nil)
            if !body.isEmpty { channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
            return channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        }.get()
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
