/// Why a Dockerfile, a shell word or a path pattern could not be processed.
///
/// Every description is a sentence in docker's words that names the file and line where there
/// is one, so that a user can find what to fix.
public enum DockerfileError: Error, Equatable, CustomStringConvertible {
    /// A syntax problem at a line of a Dockerfile: bad arguments, flags, heredocs or directives.
    case syntax(file: String, line: Int, message: String)
    /// An instruction keyword that Dockerfile syntax does not define, as written.
    case unknownInstruction(file: String, line: Int, keyword: String)
    /// A malformed glob pattern (an unclosed `[`, an empty class, a trailing `\`); carries the pattern.
    case badPattern(String)
    /// Variable expansion failed (a bad substitution, or `${x:?message}` with `x` unset or empty);
    /// carries docker's whole message, `failed to process "…": …`.
    case expansion(String)
    /// The file holds nothing but comments, blank lines and parser directives.
    case noInstructions(file: String)
    /// The file has instructions (only `ARG`s) but no `FROM`, so there is nothing to build.
    case noStages(file: String)

    /// The error as docker reports it, naming the file and line where there is one.
    public var description: String {
        switch self {
        case .syntax(let file, let line, let message):
            return "dockerfile parse error on line \(line) of \(file): \(message)"
        case .unknownInstruction(let file, let line, let keyword):
            var text = "dockerfile parse error on line \(line) of \(file): unknown instruction: \(keyword)"
            if let near = NearestName.closest(to: keyword, among: Keyword.allCases.map(\.name)) {
                text += " (did you mean \(near)?)"
            }
            return text
        case .badPattern(let pattern):
            return "syntax error in pattern \(goQuoted(pattern)): a [ class needs a closing ] and at least one character, "
                + "a pattern may not end in \\, and a ! needs a pattern after it"
        case .expansion(let message):
            return message
        case .noInstructions(let file):
            return "dockerfile parse error in \(file): file with no instructions"
        case .noStages(let file):
            return "dockerfile parse error in \(file): dockerfile contains no stages to build (it needs a FROM instruction)"
        }
    }
}

/// A parse failure before it is tied to a file and line.
struct ParseProblem: Error, Equatable {
    /// docker's wording of the problem.
    var message: String

    init(_ message: String) {
        self.message = message
    }
}
