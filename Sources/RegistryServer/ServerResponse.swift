import NIOHTTP1

/// What a handler answers: status, headers and a body that is either in memory (small JSON,
/// manifests) or a byte range of a stored blob, streamed from disk.
struct ServerResponse: Sendable {
    /// The body of a response.
    enum Body: Sendable {
        case empty
        case bytes([UInt8])
        /// `length` bytes of the file at `path` from `offset`; the file is opened when sent.
        case file(path: String, offset: Int64, length: Int64)
    }

    var status: HTTPResponseStatus
    var headers: [(String, String)]
    var body: Body
    /// A HEAD answer: headers describe the body, which is not sent.
    var headOnly = false

    init(status: HTTPResponseStatus, headers: [(String, String)] = [], body: Body = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body.
    static func json(_ status: HTTPResponseStatus, _ bytes: [UInt8], headers: [(String, String)] = []) -> ServerResponse {
        ServerResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: .bytes(bytes))
    }

    /// The spec's JSON error for `error`.
    static func error(_ error: RegistryServerError) -> ServerResponse {
        var response = json(error.status, error.body)
        if case .rangeNotSatisfiable(let size) = error { response.headers.append(("Content-Range", "bytes */\(size)")) }
        return response
    }

    /// The length the `Content-Length` header announces.
    var contentLength: Int64 {
        switch body {
        case .empty: return 0
        case .bytes(let b): return Int64(b.count)
        case .file(_, _, let length): return length
        }
    }
}
