/// Docker's processing of shell words (buildkit's shell lexer), as ADD, COPY, ENV, EXPOSE,
/// FROM, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR apply it: quotes removed (`'…'` literal,
/// `"…"` with expansion and escapes of `"`, `$` and the escape character), the escape character
/// outside quotes escaping any character, and variables expanded: `$x`, `${x}`,
/// `${x:-word}`, `${x-word}`, `${x:+word}`, `${x+word}`, `${x:?message}`, `${x?message}`,
/// `${x#pattern}`, `${x##pattern}`, `${x%pattern}`, `${x%%pattern}`, `${x/pattern/text}` and
/// `${x//pattern/text}`. An unset variable expands to "".
public struct WordExpander: Sendable {
    /// The escape character: `\`, or the backtick of a `# escape=`` directive.
    public let escape: Character

    private let escapeScalar: Unicode.Scalar

    /// An expander whose escape character is `escape` (its first scalar, for an unusual Character).
    public init(escape: Character = "\\") {
        self.escape = escape
        escapeScalar = escape.unicodeScalars.first ?? "\\"
    }

    /// `text` as one word: quotes removed, escapes applied, variables from `env` expanded, and
    /// whitespace kept as it is.
    /// Throws `DockerfileError.expansion` for a bad substitution, an unterminated quote or a
    /// failing `${x:?message}`.
    public func expand(_ text: String, env: [String: String]) throws -> String {
        try process(text, env: env, options: ShellLexer.Options(escape: escapeScalar)).result
    }

    /// `text` split on unquoted whitespace (also whitespace inside an unquoted variable's value),
    /// each word expanded as by `expand`. A word that is only `""` or `''` is dropped, as in docker.
    public func words(_ text: String, env: [String: String]) throws -> [String] {
        try process(text, env: env, options: ShellLexer.Options(escape: escapeScalar)).words
    }

    /// A COPY or ADD heredoc body whose delimiter was not quoted, expanded as docker expands it:
    /// variables are replaced, `\` escapes the next character, and quotes are ordinary text.
    /// (RUN heredoc bodies are not expanded by docker; the shell that runs them expands them.)
    public func expandHeredoc(_ content: String, env: [String: String]) throws -> String {
        var options = ShellLexer.Options(escape: "\\")
        options.skipQuotes = true
        return try process(content, env: env, options: options).result
    }

    private func process(_ text: String, env: [String: String], options: ShellLexer.Options) throws -> (result: String, words: [String]) {
        do {
            return try ShellLexer.process(text, env: env, options: options)
        } catch let problem as ShellProblem {
            throw DockerfileError.expansion("failed to process \(goQuoted(text)): \(problem.message)")
        }
    }

    /// The escape character as a scalar, for the parser's word splitting.
    var escapeCharacter: Unicode.Scalar { escapeScalar }
}
