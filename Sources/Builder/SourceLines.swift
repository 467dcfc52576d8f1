/// The physical lines of a text, read one at a time: split on "\n", trailing "\r"s removed
/// (so CRLF files read like LF files), and a UTF-8 byte-order mark at the start dropped.
struct SourceLines {
    private let lines: [String]
    private let firstLineNumber: Int
    private var index = 0

    /// The lines of `text`; the first is numbered `firstLineNumber`.
    init(_ text: String, firstLineNumber: Int = 1) {
        lines = Self.split(text)
        self.firstLineNumber = firstLineNumber
    }

    /// The number of the line `next()` returned last (one before the first line at the start).
    var lineNumber: Int { firstLineNumber + index - 1 }

    /// The next line, or nil at the end of the text.
    mutating func next() -> String? {
        guard index < lines.count else { return nil }
        index += 1
        return lines[index - 1]
    }

    /// `text` cut into lines the way Go's line scanner cuts it: no empty last line after a
    /// final "\n".
    static func split(_ text: String) -> [String] {
        let utf8 = text.utf8
        var parts = utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if utf8.last == UInt8(ascii: "\n") || utf8.isEmpty { parts.removeLast() }
        var lines = parts.map { part -> String in
            var line = part[...]
            while line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            return String(decoding: line, as: UTF8.self)
        }
        if let first = lines.first, first.firstScalar == "\u{FEFF}" {
            lines[0] = String(first.unicodeScalars.dropFirst())
        }
        return lines
    }
}

/// Reads a Dockerfile's lines into logical instruction lines and heredoc bodies, the way
/// buildkit's `parser.Parse` does.
struct InstructionScanner {
    /// An instruction line with its continuation lines joined.
    struct LogicalLine: Equatable {
        /// The joined text, its first line's leading whitespace removed.
        var text: String
        /// The number of its first line.
        var line: Int
    }

    private var lines: SourceLines
    private let file: String
    private var directives: ParserDirectives?
    /// The escape character in effect.
    private(set) var escape: Unicode.Scalar

    /// A scanner over `text`. With `readsDirectives`, the leading comments are read as parser
    /// directives, which may change the escape character.
    init(_ text: String, file: String, firstLineNumber: Int = 1, escape: Unicode.Scalar = "\\", readsDirectives: Bool) {
        lines = SourceLines(text, firstLineNumber: firstLineNumber)
        self.file = file
        self.escape = escape
        directives = readsDirectives ? ParserDirectives() : nil
    }

    /// The `syntax` directive's value.
    var syntax: String? { directives?.syntax }
    /// The `check` directive's value.
    var check: String? { directives?.check }

    /// The next instruction line. Comment lines and blank lines are skipped, also between
    /// continuation lines; a line ending in the escape character (trailing spaces and tabs
    /// allowed) continues on the next line.
    mutating func nextLogicalLine() throws -> LogicalLine? {
        while let raw = lines.next() {
            let number = lines.lineNumber
            let trimmed = raw.trimmingLeadingGoSpace()
            if var reader = directives {
                do {
                    try reader.consider(trimmed)
                } catch let problem as ParseProblem {
                    throw DockerfileError.syntax(file: file, line: number, message: problem.message)
                }
                directives = reader
                escape = reader.escape
            }
            if trimmed.firstScalar == "#" { continue }
            var (text, continues) = Self.strippingContinuation(trimmed, escape: escape)
            if !continues && text.isEmpty { continue }
            while continues, let more = lines.next() {
                let moreTrimmed = more.trimmingLeadingGoSpace()
                if moreTrimmed.isEmpty || moreTrimmed.firstScalar == "#" { continue }
                let (part, again) = Self.strippingContinuation(more, escape: escape)
                text.unicodeScalars.append(contentsOf: part.unicodeScalars)
                continues = again
            }
            return LogicalLine(text: text, line: number)
        }
        return nil
    }

    /// The bodies of the heredocs `markers` start, read from the following lines. When the text
    /// ends before a delimiter line, only the heredocs before that one are returned.
    mutating func readBodies(for markers: [HeredocMarker]) -> [Heredoc] {
        var heredocs: [Heredoc] = []
        for marker in markers {
            var content = String.UnicodeScalarView()
            var terminated = false
            while let raw = lines.next() {
                let line = marker.stripsTabs ? String(raw.unicodeScalars.drop(while: { $0 == "\t" })) : raw
                if line.hasSameScalars(as: marker.name) {
                    terminated = true
                    break
                }
                content.append(contentsOf: line.unicodeScalars)
                content.append("\n")
            }
            guard terminated else { return heredocs }
            heredocs.append(Heredoc(name: marker.name, content: String(content), expands: marker.expands, stripsTabs: marker.stripsTabs))
        }
        return heredocs
    }

    /// The line without a continuation mark (the escape character at the end, after which only
    /// spaces and tabs may follow, not itself escaped) and whether it had one.
    static func strippingContinuation(_ line: String, escape: Unicode.Scalar) -> (text: String, continues: Bool) {
        let scalars = Array(line.unicodeScalars)
        var end = scalars.count
        while end > 0 && (scalars[end - 1] == " " || scalars[end - 1] == "\t") { end -= 1 }
        guard end > 0, scalars[end - 1] == escape else { return (line, false) }
        if end > 1 && scalars[end - 2] == escape { return (line, false) }
        return (String(scalars: scalars[..<(end - 1)]), true)
    }
}
