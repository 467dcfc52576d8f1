/// Small string operations that would otherwise need all of Foundation.
extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, carriage returns and newlines.
    public var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

/// Percent-decoding of URL paths and query components (RFC 3986 §2.1), shared by the Engine
/// API and the registry server.
public enum PercentEncoding {
    /// `text` with `%XX` escapes decoded (and `+` as a space when `plusIsSpace`, as in query
    /// strings); malformed escapes are kept as they are.
    public static func decode<S: StringProtocol>(_ text: S, plusIsSpace: Bool = true) -> String {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let b = input.popFirst() {
            if b == 0x25, input.count >= 2, let hi = hex(input[input.startIndex]), let lo = hex(input[input.startIndex + 1]) {
                bytes.append(hi << 4 | lo)
                input = input.dropFirst(2)
            } else if b == 0x2b && plusIsSpace {
                bytes.append(0x20)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}
