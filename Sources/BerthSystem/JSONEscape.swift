/// JSON string escaping for raw container output, which may be any bytes, and for the API's
/// responses.
///
/// Guarantees: the result is valid UTF-8 and a valid JSON string body. `"` and `\` are
/// escaped, control characters become `\n`, `\t`, … or `\u00XX`, and every byte that is not
/// part of a well-formed UTF-8 sequence becomes `\ufffd` — what Go's encoding/json, and so
/// docker's json-file driver, writes for the same input.
public enum JSONEscape {
    /// Appends `bytes` as the body of a JSON string (without the quotes).
    public static func append(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        appendEscaped(bytes, to: &out)
    }

    /// `append(_:to:)` for bytes in a buffer (a Swift string's UTF-8, without copying it).
    public static func append(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        appendEscaped(bytes, to: &out)
    }

    private static func appendEscaped<Bytes: RandomAccessCollection>(_ bytes: Bytes, to out: inout [UInt8]) where Bytes.Element == UInt8, Bytes.Index == Int {
        // Runs of bytes that need nothing are copied whole; most strings are one such run.
        var index = bytes.startIndex
        var run = index
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            out.append(contentsOf: bytes[run..<index])
            if byte < 0x80 {
                appendASCII(byte, to: &out)
                index += 1
            } else {
                let length = validSequenceLength(bytes, at: index)
                if length == 0 {
                    out.append(contentsOf: replacement)
                    index += 1
                } else {
                    out.append(contentsOf: bytes[index..<index + length])
                    index += length
                }
            }
            run = index
        }
        out.append(contentsOf: bytes[run..<index])
    }

    private static let replacement: [UInt8] = Array("\\ufffd".utf8)
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendASCII(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        case 0..<0x20:
            out.append(contentsOf: Array("\\u00".utf8))
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        default:
            out.append(byte)
        }
    }

    /// The length (2…4) of the well-formed UTF-8 sequence starting at `index`, or 0 if the
    /// bytes there are not one (RFC 3629 table 3-7: no overlongs, surrogates or > U+10FFFF).
    private static func validSequenceLength<Bytes: RandomAccessCollection>(_ bytes: Bytes, at index: Int) -> Int where Bytes.Element == UInt8, Bytes.Index == Int {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: return 0
        }
        guard index + length <= bytes.endIndex, secondRange.contains(bytes[index + 1]) else { return 0 }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) {
            return 0
        }
        return length
    }
}
