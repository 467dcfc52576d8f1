/// A heredoc of a RUN, COPY or ADD instruction: `<<EOF` on the instruction line, its body on
/// the lines that follow, up to a line that is exactly `EOF`.
public struct Heredoc: Sendable, Equatable {
    /// The delimiter word with quotes removed; for COPY and ADD also the name of the file the
    /// body becomes.
    public var name: String
    /// The lines between the instruction line and the delimiter line, each ending in "\n"; with
    /// `<<-` every line's leading tabs are removed.
    public var content: String
    /// False when the delimiter was quoted (`<<'EOF'`, `<<"EOF"`): the body is used as written,
    /// with no variable expansion.
    public var expands: Bool
    /// True for `<<-`: leading tabs were removed from the body lines and from the delimiter line.
    public var stripsTabs: Bool

    /// A heredoc with these parts.
    public init(name: String, content: String, expands: Bool, stripsTabs: Bool) {
        self.name = name
        self.content = content
        self.expands = expands
        self.stripsTabs = stripsTabs
    }
}

/// A `<<NAME` word that starts a heredoc (buildkit's `ParseHeredoc`): an optional file
/// descriptor, `<<`, an optional `-`, and a delimiter word that may be quoted.
struct HeredocMarker: Equatable {
    /// The delimiter with quotes removed.
    var name: String
    /// `<<-`.
    var stripsTabs: Bool
    /// No part of the delimiter was quoted.
    var expands: Bool

    /// The marker that `word` is, or nil when it is not one.
    init?(word: String) {
        let scalars = Array(word.unicodeScalars)
        var position = 0
        while position < scalars.count && scalars[position].isASCIIDigit { position += 1 }
        guard position + 1 < scalars.count, scalars[position] == "<", scalars[position + 1] == "<" else { return nil }
        position += 2
        stripsTabs = position < scalars.count && scalars[position] == "-"
        if stripsTabs { position += 1 }
        let rest = scalars[position...]
        guard !rest.isEmpty, !rest.contains("<") else { return nil }
        let text = String(scalars: rest)
        var options = ShellLexer.Options(escape: "\\")
        options.skipUnset = true
        guard let words = try? ShellLexer.process(text, env: [:], options: options).words, words.count == 1 else { return nil }
        options.rawQuotes = true
        guard let rawWords = try? ShellLexer.process(text, env: [:], options: options).words, rawWords.count == 1 else { return nil }
        name = words[0]
        expands = Self.quoteCount(words[0]) == Self.quoteCount(rawWords[0])
    }

    /// The markers on an instruction line, in order (buildkit's `heredocsFromLine`).
    static func markers(inLine line: String) -> [HeredocMarker] {
        var options = ShellLexer.Options(escape: "\\")
        options.rawQuotes = true
        options.rawEscapes = true
        options.skipUnset = true
        guard let words = try? ShellLexer.process(line, env: [:], options: options).words else { return [] }
        return words.compactMap(HeredocMarker.init(word:))
    }

    private static func quoteCount(_ text: String) -> Int {
        text.unicodeScalars.filter { $0 == "'" || $0 == "\"" }.count
    }
}
