import Glibc

/// One HTTP/1.1 exchange over a Unix socket: write a request, read the response head, then read
/// the body (by `Content-Length`, chunked, or until the daemon closes) or take over the raw
/// socket after `101 Switching Protocols`.
///
/// Hand-written and blocking on purpose: the CLI must start and finish in a few milliseconds
/// (no event loop, no Foundation networking), and attach/exec need the hijacked socket itself —
/// with the bytes already read past the response head — which general HTTP clients do not hand
/// over. One connection carries one request.
final class HTTPConnection {
    /// The underlying socket.
    let socket: UnixSocket
    private var buffer: [UInt8] = []

    /// Connects to the daemon's socket.
    init(socketPath: String, host: String) throws {
        socket = try UnixSocket(path: socketPath, host: host)
    }

    /// Writes `request` (head and body).
    func send(_ request: HTTPRequest) throws {
        var head = "\(request.method) \(request.target) HTTP/1.1\r\n"
        head += "Host: berth\r\n"
        head += "User-Agent: Berth-Client/\(BerthVersion.client) (linux)\r\n"
        for (name, value) in request.headers { head += "\(name): \(value)\r\n" }
        if request.upgrade { head += "Connection: Upgrade\r\nUpgrade: tcp\r\n" }
        switch request.body {
        case .none:
            if request.method == "POST" || request.method == "PUT" { head += "Content-Length: 0\r\n" }
            head += "\r\n"
            try socket.write(Array(head.utf8))
        case .bytes(let bytes, let contentType):
            head += "Content-Type: \(contentType)\r\nContent-Length: \(bytes.count)\r\n\r\n"
            try socket.write(Array(head.utf8) + bytes)
        case .stream(let fd, let contentType):
            head += "Content-Type: \(contentType)\r\nTransfer-Encoding: chunked\r\n\r\n"
            try socket.write(Array(head.utf8))
            while true {
                let chunk = try FDIO.read(fd, max: 256 * 1024)
                if chunk.isEmpty { break }
                try socket.write(Array((String(chunk.count, radix: 16) + "\r\n").utf8) + chunk + [0x0d, 0x0a])
            }
            try socket.write(Array("0\r\n\r\n".utf8))
        }
    }

    /// Reads the status line and headers; `1xx` other than `101` are skipped.
    func readHead() throws -> HTTPResponseHead {
        while true {
            var lines: [String] = []
            while true {
                let line = try readLine()
                if line.isEmpty { break }
                lines.append(line)
            }
            let head = try HTTPResponseHead(lines: lines)
            if head.status >= 100 && head.status < 200 && head.status != 101 { continue }
            return head
        }
    }

    /// A reader for the body that follows `head`, framed as its headers say.
    func body(for head: HTTPResponseHead, method: String) -> ResponseBody {
        if method == "HEAD" || head.status == 204 || head.status == 304 || head.status < 200 {
            return ResponseBody(connection: self, framing: .empty)
        }
        if let encoding = head.header("transfer-encoding"), encoding.lowercased().contains("chunked") {
            return ResponseBody(connection: self, framing: .chunked(ChunkedDecoder()))
        }
        if let length = head.header("content-length").flatMap({ Int($0) }) {
            return ResponseBody(connection: self, framing: .length(remaining: length))
        }
        return ResponseBody(connection: self, framing: .untilClose)
    }

    /// Hands over the bytes read past the response head (the start of a hijacked stream).
    func takeBuffered() -> [UInt8] {
        defer { buffer.removeAll() }
        return buffer
    }

    /// Next bytes: buffered ones first, then from the socket. Empty at end of stream.
    func readSome() throws -> [UInt8] {
        if !buffer.isEmpty { return takeBuffered() }
        return try socket.read()
    }

    private func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0a) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == 0x0d { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard buffer.count < 64 * 1024 else { throw CLIError.protocolViolation("response header too long") }
            let more = try socket.read()
            if more.isEmpty { throw CLIError.protocolViolation("connection closed before the response was complete") }
            buffer += more
        }
    }
}

/// A response body read piece by piece, so progress streams and logs print as they arrive.
final class ResponseBody {
    enum Framing {
        case empty
        case length(remaining: Int)
        case chunked(ChunkedDecoder)
        case untilClose
    }

    private let connection: HTTPConnection
    private var framing: Framing

    init(connection: HTTPConnection, framing: Framing) {
        self.connection = connection
        self.framing = framing
    }

    /// The next piece of the body, or `nil` once it is complete.
    func next() throws -> [UInt8]? {
        while true {
            switch framing {
            case .empty:
                return nil
            case .length(let remaining):
                if remaining == 0 { return nil }
                var bytes = try connection.readSome()
                if bytes.isEmpty { throw CLIError.protocolViolation("connection closed in the middle of the response body") }
                if bytes.count > remaining { bytes.removeSubrange(remaining...) }
                framing = .length(remaining: remaining - bytes.count)
                return bytes
            case .chunked(var decoder):
                if decoder.isFinished { return nil }
                let raw = try connection.readSome()
                if raw.isEmpty { throw CLIError.protocolViolation("connection closed in the middle of a chunked body") }
                let bytes = try decoder.feed(raw)
                framing = .chunked(decoder)
                if !bytes.isEmpty { return bytes }
            case .untilClose:
                let bytes = try connection.readSome()
                return bytes.isEmpty ? nil : bytes
            }
        }
    }

    /// The rest of the body.
    func readAll() throws -> [UInt8] {
        var all: [UInt8] = []
        while let piece = try next() { all += piece }
        return all
    }

    /// Calls `body` with each complete line (without the newline); a last line without a newline
    /// is delivered too. Used for newline-delimited JSON.
    func forEachLine(_ body: ([UInt8]) throws -> Void) throws {
        var pending: [UInt8] = []
        while let piece = try next() {
            pending += piece
            while let newline = pending.firstIndex(of: 0x0a) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                try body(line)
            }
        }
        if !pending.isEmpty { try body(pending) }
    }
}
