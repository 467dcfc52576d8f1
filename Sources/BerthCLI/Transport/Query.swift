import BerthSystem
/// A URL query string built in order, with values percent-encoded (RFC 3986 unreserved
/// characters pass through; everything else, including space, becomes `%XX`).
struct Query {
    private var items: [(String, String)] = []

    /// Appends `name=value`; repeated names are kept (`names=a&names=b`).
    mutating func add(_ name: String, _ value: String) {
        items.append((name, value))
    }

    /// Appends `name=1` when `flag` is set (docker's encoding of booleans).
    mutating func add(_ name: String, flag: Bool) {
        if flag { items.append((name, "1")) }
    }

    /// `?a=1&b=2`, or the empty string when there are no items.
    var encoded: String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\(Query.escape($0.0))=\(Query.escape($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes everything but `A-Z a-z 0-9 - . _ ~`.
    static func escape(_ text: String) -> String {
        PercentEncoding.encode(text)
    }

    /// Escapes an image or container name for use in a path: slashes and colons stay literal, as
    /// docker sends them (`/images/127.0.0.1:5000/x/push`).
    static func escapePath(_ text: String) -> String {
        PercentEncoding.encode(text, keeping: [0x2f, 0x3a, 0x40])
    }
}
