import BerthSystem
import NIOCore
import NIOHTTP1

/// A request as the registry's handlers see it: method, path and decoded query; the body is
/// read separately as a stream (`RequestBody`).
struct ServerRequest: Sendable {
    var method: HTTPMethod
    /// The path, not percent-decoded.
    var path: String
    /// Query parameters, percent-decoded; the first value of a repeated name wins.
    var query: [String: String]
    var headers: HTTPHeaders

    init(method: HTTPMethod, uri: String, headers: HTTPHeaders) {
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
    func header(_ name: String) -> String? { headers.first(name: name) }

    /// The declared `Content-Length`, nil when absent or unreadable.
    var contentLength: Int64? { header("Content-Length").flatMap { Int64($0) } }
}

/// Query strings: `a=b&c=d`, with `%XX` and `+` decoding.
enum QueryString {
    /// The parameters of `text`; malformed escapes are kept as they are.
    static func parse(_ text: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = PercentEncoding.decode(kv[0])
            if result[key] == nil { result[key] = kv.count > 1 ? PercentEncoding.decode(kv[1]) : "" }
        }
        return result
    }
}
