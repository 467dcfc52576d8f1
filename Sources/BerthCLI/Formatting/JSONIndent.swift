/// Re-indents JSON text without decoding it, keeping key order and number spelling exactly as
/// the daemon sent them (Go's `json.Indent`): four spaces per level, `"key": value`, and empty
/// objects and arrays left as `{}` and `[]`.
enum JSONIndent {
    /// `json` re-indented, nested lines starting `level` levels deep.
    static func indent(_ json: [UInt8], level: Int = 0) -> String {
        var out: [UInt8] = []
        var depth = level
        var inString = false
        var escaped = false
        var i = 0
        let bytes = json
        func newline() {
            out.append(0x0a)
            out += [UInt8](repeating: 0x20, count: depth * 4)
        }
        while i < bytes.count {
            let byte = bytes[i]
            i += 1
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == 0x5c {
                    escaped = true
                } else if byte == 0x22 {
                    inString = false
                }
                continue
            }
            switch byte {
            case 0x20, 0x0a, 0x0d, 0x09:
                continue
            case 0x22:
                inString = true
                out.append(byte)
            case 0x7b, 0x5b:
                out.append(byte)
                var j = i
                while j < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[j]) { j += 1 }
                if j < bytes.count, bytes[j] == (byte == 0x7b ? 0x7d : 0x5d) {
                    out.append(bytes[j])
                    i = j + 1
                } else {
                    depth += 1
                    newline()
                }
            case 0x7d, 0x5d:
                depth -= 1
                newline()
                out.append(byte)
            case 0x2c:
                out.append(byte)
                newline()
            case 0x3a:
                out += [0x3a, 0x20]
            default:
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
