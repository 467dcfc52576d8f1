/// Small text transformations docker applies to IDs and commands in its tables.
enum Text {
    /// The 12-character short form of an ID, without a `sha256:` prefix.
    static func shortID(_ id: String) -> String {
        var id = Substring(id)
        if let colon = id.firstIndex(of: ":") { id = id[id.index(after: colon)...] }
        return String(id.prefix(12))
    }

    /// `text` cut to `width` characters, the last replaced by `…` when it was longer
    /// (docker's `formatter.Ellipsis`).
    static func ellipsis(_ text: String, width: Int) -> String {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count > width else { return text }
        guard width > 1 else { return String(String.UnicodeScalarView(scalars.prefix(width))) }
        return String(String.UnicodeScalarView(scalars.prefix(width - 1))) + "…"
    }

    /// A double-quoted literal like Go's `strconv.Quote`: `"`, `\` and control characters
    /// are escaped; printable Unicode is kept.
    static func goQuote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{07}": out += "\\a"
            case "\u{08}": out += "\\b"
            case "\u{0c}": out += "\\f"
            case "\u{0b}": out += "\\v"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" : "") + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
