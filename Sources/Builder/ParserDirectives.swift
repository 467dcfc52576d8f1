/// The parser directives at the top of a Dockerfile (`# syntax=…`, `# escape=…`, `# check=…`):
/// comments of the form `# key=value` before any instruction, blank line or other comment.
struct ParserDirectives {
    /// The escape character; `\` unless an `escape` directive chose the backtick.
    private(set) var escape: Unicode.Scalar = "\\"
    /// The `syntax` directive's value.
    private(set) var syntax: String?
    /// The `check` directive's value.
    private(set) var check: String?

    private var seen: Set<String> = []
    private var done = false

    /// Reads `line` (leading whitespace removed) as a possible directive. The first line that is
    /// not one, and every line after it, is ignored. Throws for a repeated directive and for an
    /// escape character other than `\` and backtick.
    mutating func consider(_ line: String) throws {
        guard !done else { return }
        guard line.firstScalar == "#",
              let (key, value) = Self.split(String(line.unicodeScalars.dropFirst()).trimmingLeadingGoSpace()) else {
            done = true
            return
        }
        let name = key.lowercased()
        guard ["syntax", "escape", "check"].contains(name) else {
            done = true
            return
        }
        guard seen.insert(name).inserted else {
            throw ParseProblem("only one \(name) parser directive can be used")
        }
        switch name {
        case "escape":
            guard value == "\\" || value == "`", let scalar = value.firstScalar else {
                throw ParseProblem("invalid escape token '\(value)' does not match ` or \\")
            }
            escape = scalar
        case "syntax":
            syntax = value
        default:
            check = value
        }
    }

    /// `key` and `value` of `key = value` (buildkit's `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`).
    private static func split(_ text: String) -> (key: String, value: String)? {
        let scalars = Array(text.unicodeScalars)
        func isASCIILetter(_ s: Unicode.Scalar) -> Bool { (0x41...0x5A).contains(s.value) || (0x61...0x7A).contains(s.value) }
        func isSpace(_ s: Unicode.Scalar) -> Bool { s == " " || s == "\t" || s == "\n" || s == "\u{0C}" || s == "\r" }
        guard let first = scalars.first, isASCIILetter(first) else { return nil }
        var position = 1
        while position < scalars.count && (isASCIILetter(scalars[position]) || scalars[position].isASCIIDigit) { position += 1 }
        let key = String(scalars: scalars[..<position])
        while position < scalars.count && isSpace(scalars[position]) { position += 1 }
        guard position < scalars.count, scalars[position] == "=" else { return nil }
        position += 1
        while position < scalars.count && isSpace(scalars[position]) { position += 1 }
        var end = scalars.count
        while end > position && isSpace(scalars[end - 1]) { end -= 1 }
        guard end > position else { return nil }
        return (key, String(scalars: scalars[position..<end]))
    }
}
