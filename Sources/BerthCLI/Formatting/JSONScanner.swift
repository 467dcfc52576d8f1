/// Navigation inside raw JSON bytes without decoding the whole document, so values keep the
/// daemon's key order and number spelling. Assumes well-formed JSON (it comes from the daemon);
/// malformed input yields nil, never a crash.
struct JSONScanner {
    private let bytes: [UInt8]

    /// A scanner over `bytes`.
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The raw bytes of the value at `path` (object keys from the root), or nil if absent.
    func value(at path: [String]) -> ArraySlice<UInt8>? {
        guard let start = skipSpace(0), let end = skipValue(start) else { return nil }
        var range = start..<end
        for key in path {
            guard bytes[range.lowerBound] == 0x7b, let found = member(key, inObjectAt: range.lowerBound) else { return nil }
            range = found
        }
        return bytes[range]
    }

    /// The members of the object starting at `index`, in order, as (key, value range).
    func members(ofObjectAt index: Int) -> [(String, Range<Int>)] {
        var result: [(String, Range<Int>)] = []
        guard index < bytes.count, bytes[index] == 0x7b, var i = skipSpace(index + 1) else { return result }
        while i < bytes.count, bytes[i] == 0x22 {
            guard let keyEnd = skipString(i), let key = JSONScanner.decodeString(bytes[i..<keyEnd]),
                  let colon = skipSpace(keyEnd), colon < bytes.count, bytes[colon] == 0x3a,
                  let valueStart = skipSpace(colon + 1), let valueEnd = skipValue(valueStart) else { return result }
            result.append((key, valueStart..<valueEnd))
            guard let next = skipSpace(valueEnd), next < bytes.count, bytes[next] == 0x2c,
                  let following = skipSpace(next + 1) else { break }
            i = following
        }
        return result
    }

    /// The element ranges of the array starting at `index`.
    func elements(ofArrayAt index: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        guard index < bytes.count, bytes[index] == 0x5b, var i = skipSpace(index + 1) else { return result }
        while i < bytes.count, bytes[i] != 0x5d {
            guard let end = skipValue(i) else { return result }
            result.append(i..<end)
            guard let next = skipSpace(end), next < bytes.count, bytes[next] == 0x2c,
                  let following = skipSpace(next + 1) else { break }
            i = following
        }
        return result
    }

    private func member(_ key: String, inObjectAt index: Int) -> Range<Int>? {
        members(ofObjectAt: index).first { $0.0 == key }?.1
    }

    private func skipSpace(_ index: Int) -> Int? {
        var i = index
        while i < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[i]) { i += 1 }
        return i
    }

    /// The index just past the string starting at `index`.
    private func skipString(_ index: Int) -> Int? {
        var i = index + 1
        while i < bytes.count {
            if bytes[i] == 0x5c { i += 2; continue }
            if bytes[i] == 0x22 { return i + 1 }
            i += 1
        }
        return nil
    }

    /// The index just past the value starting at `index`.
    private func skipValue(_ index: Int) -> Int? {
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case 0x22:
            return skipString(index)
        case 0x7b, 0x5b:
            var depth = 0
            var i = index
            while i < bytes.count {
                switch bytes[i] {
                case 0x22:
                    guard let end = skipString(i) else { return nil }
                    i = end
                    continue
                case 0x7b, 0x5b: depth += 1
                case 0x7d, 0x5d:
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default: break
                }
                i += 1
            }
            return nil
        default:
            var i = index
            while i < bytes.count, ![0x2c, 0x7d, 0x5d, 0x20, 0x0a, 0x0d, 0x09].contains(bytes[i]) { i += 1 }
            return i
        }
    }

    /// The text of a JSON string literal (with its quotes), escapes resolved.
    static func decodeString(_ literal: ArraySlice<UInt8>) -> String? {
        guard literal.count >= 2, literal.first == 0x22, literal.last == 0x22 else { return nil }
        let body = Array(literal.dropFirst().dropLast())
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        func flush() {
            scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
            utf8.removeAll()
        }
        var i = 0
        while i < body.count {
            guard body[i] == 0x5c, i + 1 < body.count else {
                utf8.append(body[i])
                i += 1
                continue
            }
            flush()
            let escape = body[i + 1]
            i += 2
            switch escape {
            case 0x6e: scalars.append("\n")
            case 0x74: scalars.append("\t")
            case 0x72: scalars.append("\r")
            case 0x62: scalars.append("\u{08}")
            case 0x66: scalars.append("\u{0c}")
            case 0x75:
                guard i + 4 <= body.count, var code = UInt32(String(decoding: body[i..<(i + 4)], as: UTF8.self), radix: 16) else { return nil }
                i += 4
                if (0xD800..<0xDC00).contains(code), i + 6 <= body.count, body[i] == 0x5c, body[i + 1] == 0x75,
                   let low = UInt32(String(decoding: body[(i + 2)..<(i + 6)], as: UTF8.self), radix: 16),
                   (0xDC00..<0xE000).contains(low) {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default:
                scalars.append(Unicode.Scalar(escape))
            }
        }
        flush()
        return String(scalars)
    }
}
