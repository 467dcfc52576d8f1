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
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5a, 0x61...0x7a, 0x30...0x39, 0x2d, 0x2e, 0x5f, 0x7e:
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + hex(byte)
            }
        }
        return out
    }

    /// Escapes an image or container name for use in a path: slashes and colons stay literal, as
    /// docker sends them (`/images/127.0.0.1:5000/x/push`).
    static func escapePath(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5a, 0x61...0x7a, 0x30...0x39, 0x2d, 0x2e, 0x5f, 0x7e, 0x2f, 0x3a, 0x40:
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + hex(byte)
            }
        }
        return out
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
    }
}
