/// Reads an instruction's arguments as the JSON array docker's exec form is, with the rules of
/// Go's `encoding/json` (RFC 8259): the whole text must be one array, and nothing but
/// whitespace may follow it.
enum JSONStringArray {
    /// What the text turned out to be.
    enum Outcome: Equatable {
        /// A JSON array whose elements are all strings.
        case strings([String])
        /// Valid JSON array with an element that is not a string: docker rejects this.
        case notStrings
        /// Not JSON (or not an array): docker reads the text as the shell form instead.
        case invalid
    }

    /// The outcome for `text`.
    static func parse(_ text: String) -> Outcome {
        var reader = JSONReader(bytes: Array(text.utf8))
        return reader.readStringArray()
    }
}

/// A cursor over UTF-8 JSON text. Nesting is tracked with an explicit stack, so hostile depth
/// cannot exhaust the call stack.
private struct JSONReader {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        position += 1
        return true
    }

    mutating func readStringArray() -> JSONStringArray.Outcome {
        skipWhitespace()
        guard consume(UInt8(ascii: "[")) else { return .invalid }
        var strings: [String] = []
        var allStrings = true
        skipWhitespace()
        if !consume(UInt8(ascii: "]")) {
            while true {
                skipWhitespace()
                if current == UInt8(ascii: "\"") {
                    guard let string = readString() else { return .invalid }
                    strings.append(string)
                } else {
                    guard skipValue() else { return .invalid }
                    allStrings = false
                }
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                if consume(UInt8(ascii: "]")) { break }
                return .invalid
            }
        }
        skipWhitespace()
        guard position == bytes.count else { return .invalid }
        return allStrings ? .strings(strings) : .notStrings
    }

    /// Skips one JSON value of any kind; false when it is malformed.
    private mutating func skipValue() -> Bool {
        var open: [UInt8] = []
        while true {
            skipWhitespace()
            guard let byte = current else { return false }
            var opened = false
            switch byte {
            case UInt8(ascii: "["):
                position += 1
                skipWhitespace()
                if !consume(UInt8(ascii: "]")) {
                    open.append(byte)
                    opened = true
                }
            case UInt8(ascii: "{"):
                position += 1
                skipWhitespace()
                if !consume(UInt8(ascii: "}")) {
                    guard readKey() else { return false }
                    open.append(byte)
                    opened = true
                }
            case UInt8(ascii: "\""):
                guard readString() != nil else { return false }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard skipNumber() else { return false }
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                guard skipLiteral() else { return false }
            default:
                return false
            }
            if opened { continue }
            // A value is complete: close containers until one expects another element.
            while let container = open.last {
                skipWhitespace()
                if consume(UInt8(ascii: ",")) {
                    if container == UInt8(ascii: "{") {
                        skipWhitespace()
                        guard readKey() else { return false }
                    }
                    break
                }
                let closer = container == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: "}")
                guard consume(closer) else { return false }
                open.removeLast()
            }
            if open.isEmpty { return true }
        }
    }

    /// Reads `"key" :`.
    private mutating func readKey() -> Bool {
        guard current == UInt8(ascii: "\""), readString() != nil else { return false }
        skipWhitespace()
        return consume(UInt8(ascii: ":"))
    }

    private mutating func skipLiteral() -> Bool {
        for literal in ["true", "false", "null"] {
            let expected = Array(literal.utf8)
            if position + expected.count <= bytes.count, Array(bytes[position..<position + expected.count]) == expected {
                position += expected.count
                return true
            }
        }
        return false
    }

    private mutating func skipDigits() -> Int {
        let start = position
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
        return position - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func skipNumber() -> Bool {
        _ = consume(UInt8(ascii: "-"))
        if consume(UInt8(ascii: "0")) {
            if let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { return false }
        } else if skipDigits() == 0 {
            return false
        }
        if consume(UInt8(ascii: ".")), skipDigits() == 0 { return false }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            if skipDigits() == 0 { return false }
        }
        return true
    }

    /// Four hex digits as a number, or nil.
    private mutating func readHex4() -> UInt32? {
        guard position + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[position..<position + 4] {
            guard let digit = hexValue(byte) else { return nil }
            value = value * 16 + digit
        }
        position += 4
        return value
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// Reads a string at `"`, decoding escapes; nil when malformed.
    private mutating func readString() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        var decoded: [UInt8] = []
        while let byte = current {
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: decoded, as: UTF8.self)
            case 0..<0x20:
                return nil
            case UInt8(ascii: "\\"):
                guard let escaped = current else { return nil }
                position += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escaped)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = readEscapedScalar() else { return nil }
                    decoded.append(contentsOf: Array(String(scalars: [scalar]).utf8))
                default:
                    return nil
                }
            default:
                decoded.append(byte)
            }
        }
        return nil
    }

    /// The scalar of a `\uXXXX` escape (the `\u` already read), joining a surrogate pair; a lone
    /// surrogate becomes U+FFFD, as in Go.
    private mutating func readEscapedScalar() -> Unicode.Scalar? {
        guard let unit = readHex4() else { return nil }
        let replacement = Unicode.Scalar(0xFFFD as UInt32) ?? " "
        switch unit {
        case 0xD800..<0xDC00:
            let saved = position
            if consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = readHex4(), (0xDC00..<0xE000).contains(low) {
                return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) ?? replacement
            }
            position = saved
            return replacement
        case 0xDC00..<0xE000:
            return replacement
        default:
            return Unicode.Scalar(unit) ?? replacement
        }
    }
}
