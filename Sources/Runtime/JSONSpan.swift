/// Finds the raw bytes of one value inside a JSON document without decoding it, so the
/// seccomp profile can be looked up by its exact text (decoding its ~400 strings with Codable
/// costs more than the rest of a container's start-up work in the runtime).
enum JSONSpan {
    /// The bytes of the value at `path` (object keys from the top), the last one when a key
    /// repeats, as JSON decoders take it. nil when absent, when the document is malformed, or
    /// when a key on the way holds an escape (the caller then decodes the document normally).
    static func value(at path: [String], in bytes: [UInt8]) -> ArraySlice<UInt8>? {
        // Scanned through a buffer pointer: element access on the array costs a retain per byte.
        let found: Range<Int>? = bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer)
            scanner.skipWhitespace()
            var range = scanner.position..<buffer.count
            for key in path {
                var inner = Scanner(bytes: buffer, position: range.lowerBound)
                guard let member = inner.member(named: Array(key.utf8)), member.upperBound <= range.upperBound else { return nil }
                range = member
            }
            return range
        }
        return found.map { bytes[$0] }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        static func isWhitespace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d
        }

        mutating func skipWhitespace() {
            while position < bytes.count, Scanner.isWhitespace(bytes[position]) { position += 1 }
        }

        /// At an object: the range of the value of its last member named `name`.
        mutating func member(named name: [UInt8]) -> Range<Int>? {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "{") else { return nil }
            position += 1
            var found: Range<Int>?
            while true {
                skipWhitespace()
                guard position < bytes.count else { return nil }
                if bytes[position] == UInt8(ascii: "}") { return found }
                guard let key = string() else { return nil }
                if bytes[key].contains(UInt8(ascii: "\\")) { return nil }
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
                position += 1
                skipWhitespace()
                let start = position
                guard skipValue() else { return nil }
                if bytes[key].elementsEqual(name) { found = start..<position }
                skipWhitespace()
                guard position < bytes.count else { return nil }
                if bytes[position] == UInt8(ascii: ",") { position += 1 }
            }
        }

        /// At a string: its content's range (escapes kept); the scanner moves past it.
        mutating func string() -> Range<Int>? {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
            let start = position + 1
            position += 1
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "\\"): position += 2
                case UInt8(ascii: "\""):
                    position += 1
                    return start..<(position - 1)
                default: position += 1
                }
            }
            return nil
        }

        /// Moves past one value of any kind; false when the document ends or is malformed.
        mutating func skipValue() -> Bool {
            guard position < bytes.count else { return false }
            switch bytes[position] {
            case UInt8(ascii: "\""):
                return string() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while position < bytes.count {
                    switch bytes[position] {
                    case UInt8(ascii: "\""):
                        guard string() != nil else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            position += 1
                            return true
                        }
                    default: break
                    }
                    position += 1
                }
                return false
            default:
                // A number or a literal runs to the next delimiter.
                let start = position
                while position < bytes.count {
                    let byte = bytes[position]
                    if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || Scanner.isWhitespace(byte) { break }
                    position += 1
                }
                return position > start
            }
        }
    }
}
