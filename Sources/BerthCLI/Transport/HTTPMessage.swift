/// What a request carries after its headers.
enum HTTPRequestBody {
    /// No body and no `Content-Length`.
    case none
    /// A body held in memory, sent with `Content-Length`.
    case bytes([UInt8], contentType: String)
    /// A body read from a file descriptor until end of file, sent `Transfer-Encoding: chunked`
    /// (import and load stream tars of any size this way, including from stdin).
    case stream(fd: Int32, contentType: String)
}

/// One HTTP/1.1 request to the daemon.
struct HTTPRequest {
    /// `GET`, `POST`, `DELETE`, `HEAD`, `PUT`.
    var method: String
    /// Path and query, already versioned and encoded (`/v1.44/containers/json?all=1`).
    var target: String
    /// Extra headers beyond Host, User-Agent and the body's framing.
    var headers: [(String, String)] = []
    /// The body.
    var body: HTTPRequestBody = .none
    /// Asks the daemon to hijack the connection (`Connection: Upgrade`, `Upgrade: tcp`).
    var upgrade = false
}

/// The status line and headers of a response.
struct HTTPResponseHead {
    /// The status code (`200`, `101`, `404`, …).
    let status: Int
    /// Headers in arrival order, names lowercased.
    let headers: [(String, String)]

    /// The first value of header `name` (case-insensitive).
    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0 == lower }?.1
    }

    /// Parses `HTTP/1.1 200 OK` and the header lines that follow it (without the blank line).
    init(lines: [String]) throws {
        guard let statusLine = lines.first else { throw CLIError.protocolViolation("empty response") }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw CLIError.protocolViolation("bad status line \"\(statusLine)\"")
        }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else {
                throw CLIError.protocolViolation("bad header line \"\(line)\"")
            }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            headers.append((name, value))
        }
        self.status = status
        self.headers = headers
    }
}

extension StringProtocol {
    /// The text without leading and trailing characters from `set`.
    func trimmingCharacters(in set: String) -> String {
        let scalars = Array(unicodeScalars)
        let strip = Set(set.unicodeScalars)
        var start = 0
        var end = scalars.count
        while start < end, strip.contains(scalars[start]) { start += 1 }
        while end > start, strip.contains(scalars[end - 1]) { end -= 1 }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[start..<end])
        return String(out)
    }
}
