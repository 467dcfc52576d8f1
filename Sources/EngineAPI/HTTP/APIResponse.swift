#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOHTTP1

/// What a route answers. The connection handler turns it into bytes on the wire.
public enum APIResponse: Sendable {
    /// A complete body with a content type.
    case data(HTTPResponseStatus, contentType: String, body: [UInt8], extraHeaders: [(String, String)] = [])
    /// Headers only (204, 304, 201 with no body).
    case empty(HTTPResponseStatus)
    /// A chunked body produced over time (progress, logs, wait, tar downloads). The producer
    /// writes pieces and returns when done; it sees `ClientGone` when the client left.
    case stream(HTTPResponseStatus, contentType: String, extraHeaders: [(String, String)] = [], producer: @Sendable (StreamWriter) async throws -> Void)
    /// The connection is taken over for a raw byte stream (attach, exec start).
    case hijack(HijackPlan)

    /// A JSON body.
    static func json<T: Encodable>(_ status: HTTPResponseStatus, _ value: T) -> APIResponse {
        var body = (try? StreamingJSONEncoder().encode(value)) ?? Array("{}".utf8)
        body.append(0x0a)
        return .data(status, contentType: "application/json", body: body)
    }
}

/// Writes pieces of a streamed response; each `write` waits until the bytes are handed to the
/// socket, so a slow client slows the producer instead of filling memory.
public struct StreamWriter: Sendable {
    let writeChunk: @Sendable ([UInt8]) async throws -> Void

    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await writeChunk(bytes)
    }

    /// One JSON object followed by a newline (docker's JSON-lines progress format).
    public func writeJSON<T: Encodable>(_ value: T) async throws {
        var line = try StreamingJSONEncoder().encode(value)
        line += [0x0d, 0x0a]
        try await write(line)
    }
}

/// The client went away while a response was streaming.
public struct ClientGone: Error {}

/// How a hijacked connection is served: the monitor socket to splice it to and the first line
/// to send it.
public struct HijackPlan: Sendable {
    /// Returns the monitor socket path once the stream may begin (after `start` for an
    /// attach made before it), and the first line to send to the monitor; nil when there is
    /// no live stream (attach `stream=0`): the connection ends after `preamble`.
    public var connect: @Sendable () async throws -> (socketPath: String, hello: String)?
    /// Called when the stream has ended.
    public var finished: @Sendable () async -> Void
    /// Content type announced in the 101/200 response.
    public var contentType: String
    /// Bytes sent to the client before the live stream (attach `logs=1`: the log so far).
    public var preamble: [UInt8] = []
}
