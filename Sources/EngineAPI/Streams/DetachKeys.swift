/// docker's detach key sequences (`--detach-keys`, `detachKeys` in config.json):
/// comma-separated keys, each a single character or `ctrl-<x>`; `ctrl-p,ctrl-q` by default.
enum DetachKeys {
    static let defaultSequence = "ctrl-p,ctrl-q"

    /// The bytes of `text` (the default when nil or empty); nil when it is not a sequence.
    static func bytes(_ text: String?) -> [UInt8]? {
        let spec = text.flatMap { $0.isEmpty ? nil : $0 } ?? defaultSequence
        var result: [UInt8] = []
        for key in spec.split(separator: ",", omittingEmptySubsequences: false) {
            let lower = key.lowercased()
            if key.unicodeScalars.count == 1, let ascii = key.unicodeScalars.first, ascii.isASCII {
                result.append(UInt8(ascii.value))
            } else if lower.hasPrefix("ctrl-"), lower.unicodeScalars.count == 6, let c = lower.unicodeScalars.last {
                switch c {
                case "a"..."z": result.append(UInt8(c.value) - 0x60)
                case "@": result.append(0)
                case "[": result.append(27)
                case "\\": result.append(28)
                case "]": result.append(29)
                case "^": result.append(30)
                case "_": result.append(31)
                default: return nil
                }
            } else {
                return nil
            }
        }
        return result
    }

    /// The `detach=HEX` word of the monitor's attach line.
    static func helloWord(_ bytes: [UInt8]) -> String {
        "detach=" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
