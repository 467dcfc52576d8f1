/// `.dockerignore` rules as docker's patternmatcher applies them: one pattern per line; lines
/// starting with `#` and blank lines ignored; surrounding whitespace trimmed; each pattern
/// cleaned like Go's `filepath.Clean`, a leading "/" dropped; `!` marks an exception; `*`, `?`,
/// `[…]`, `\` escapes and `**` (any number of directories). The last matching pattern wins,
/// and a path is excluded when it or any of its parent directories is (`MatchesOrParentMatches`).
public struct DockerIgnore: Sendable, Equatable {
    /// The patterns in file order as docker keeps them: cleaned, exceptions with their `!`.
    public private(set) var patterns: [String]

    private var rules: [IgnoreRule]
    private var malformed: [String]

    /// The rules of a `.dockerignore` file's text. A malformed pattern matches nothing;
    /// `validate()` reports it.
    public init(parsing text: String) {
        patterns = []
        rules = []
        malformed = []
        for line in SourceLines.split(text) where line.firstScalar != "#" {
            var pattern = line.trimmingGoSpace()
            guard !pattern.isEmpty else { continue }
            let exception = pattern.firstScalar == "!"
            if exception { pattern = String(pattern.unicodeScalars.dropFirst()).trimmingGoSpace() }
            if !pattern.isEmpty {
                pattern = PathClean.clean(pattern)
                if pattern.unicodeScalars.count > 1 && pattern.firstScalar == "/" {
                    pattern = String(pattern.unicodeScalars.dropFirst())
                }
            }
            let written = exception ? "!" + pattern : pattern
            patterns.append(written)
            guard !pattern.isEmpty, let tokens = GlobSyntax.tokens(pattern, doubleStar: true) else {
                malformed.append(written)
                continue
            }
            rules.append(IgnoreRule(isException: exception, tokens: tokens))
        }
    }

    /// True when the file has no patterns, so nothing is excluded.
    public var isEmpty: Bool { patterns.isEmpty }

    /// Throws `DockerfileError.badPattern` for the first malformed pattern (an unclosed `[`, a
    /// trailing `\`, a lone `!`), which docker refuses to build with.
    public func validate() throws {
        if let pattern = malformed.first { throw DockerfileError.badPattern(pattern) }
    }

    /// Whether `path` (relative to the context root, "/"-separated) is left out of the build
    /// context: the last pattern that matches it or one of its parent directories decides.
    /// The context root itself is never excluded.
    public func excludes(_ path: String) -> Bool {
        let scalars = Array(Self.normalized(path).unicodeScalars)
        guard !rules.isEmpty, scalars != ["."] else { return false }
        let parents = scalars.indices.filter { scalars[$0] == "/" }
        var excluded = false
        for rule in rules where rule.isException == excluded {
            let matches = GlobMatcher.run(rule.tokens, over: scalars, in: 0..<scalars.count).ends[scalars.count]
                || parents.contains { GlobMatcher.run(rule.tokens, over: scalars, in: 0..<$0).ends[$0] }
            if matches { excluded = !rule.isException }
        }
        return excluded
    }

    /// For pruning a walk of the context: false only when `directory` is excluded and no
    /// exception pattern could match anything below it, so nothing under it can be included.
    public func mayIncludeBelow(_ directory: String) -> Bool {
        let cleaned = Self.normalized(directory)
        guard cleaned != ".", excludes(cleaned) else { return true }
        let prefix = Array((cleaned + "/").unicodeScalars)
        return rules.contains { rule in
            rule.isException && GlobMatcher.run(rule.tokens, over: prefix, in: 0..<prefix.count).reachedEnd
        }
    }

    /// The path cleaned, without leading "/".
    private static func normalized(_ path: String) -> String {
        let cleaned = PathClean.clean(path)
        let relative = String(cleaned.unicodeScalars.drop(while: { $0 == "/" }))
        return relative.isEmpty ? "." : relative
    }
}

/// One compiled `.dockerignore` pattern.
private struct IgnoreRule: Sendable, Equatable {
    /// A `!` pattern: matching paths are included again.
    var isException: Bool
    var tokens: [GlobToken]
}
