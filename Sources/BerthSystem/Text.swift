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

    /// `text` with every byte but RFC 3986's unreserved ones (`A-Z a-z 0-9 - . _ ~`) and those
    /// in `keeping` as `%XX`, for a query value or a path.
    public static func encode<S: StringProtocol>(_ text: S, keeping: Set<UInt8> = []) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5a, 0x61...0x7a, 0x30...0x39, 0x2d, 0x2e, 0x5f, 0x7e:
                out.append(byte)
            default:
                if keeping.contains(byte) {
                    out.append(byte)
                } else {
                    out += [0x25, digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]]
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
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

extension String {
    /// The string with `pad` in front up to `width` characters.
    public func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
