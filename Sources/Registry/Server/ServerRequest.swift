import NIOCore
import NIOHTTP1

/// A request as the registry's handlers see it: method, path and decoded query; the body is
/// read separately as a stream (`RequestBody`).
public struct ServerRequest: Sendable {
    public var method: HTTPMethod
    /// The path, not percent-decoded.
    public var path: String
    /// Query parameters, percent-decoded; the first value of a repeated name wins.
    public var query: [String: String]
    public var headers: HTTPHeaders

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders) {
        self.method = method
        self.headers = headers
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            query = QueryString.parse(uri[uri.index(after: mark)...])
        } else {
            path = uri
            query = [:]
        }
    }

    /// The first value of header `name`.
    public func header(_ name: String) -> String? { headers.first(name: name) }

    /// The declared `Content-Length`, nil when absent or unreadable.
    public var contentLength: Int64? { header("Content-Length").flatMap { Int64($0) } }
}

/// Query strings: `a=b&c=d`, with `%XX` and `+` decoding.
public enum QueryString {
    /// The parameters of `text`; malformed escapes are kept as they are.
    public static func parse(_ text: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(kv[0])
            if result[key] == nil { result[key] = kv.count > 1 ? decode(kv[1]) : "" }
        }
        return result
    }

    /// Percent-decodes `text` (`+` is a space).
    public static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let b = input.first {
            input = input.dropFirst()
            if b == 0x2b { bytes.append(0x20); continue }
            if b == 0x25, input.count >= 2, let hi = hex(input[input.startIndex]), let lo = hex(input[input.startIndex + 1]) {
                bytes.append(hi << 4 | lo)
                input = input.dropFirst(2)
                continue
            }
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x61...0x66: return b - 0x61 + 10
        case 0x41...0x46: return b - 0x41 + 10
        default: return nil
        }
    }
}
