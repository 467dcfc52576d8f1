/// Go's `filepath.Match`, as COPY and ADD match their source patterns against context paths:
/// `*` (any run of characters other than "/"), `?` (one character other than "/"), `[a-z]`,
/// `[^…]` classes, and `\` to escape the next character.
public enum PathGlob {
    /// Whether `pattern` matches all of `path` ("/"-separated).
    /// Throws `DockerfileError.badPattern` for a malformed pattern, whatever the path.
    public static func matches(_ pattern: String, _ path: String) throws -> Bool {
        guard let tokens = GlobSyntax.tokens(pattern, doubleStar: false) else {
            throw DockerfileError.badPattern(pattern)
        }
        return GlobMatcher.matches(tokens, Array(path.unicodeScalars))
    }

    /// Whether the pattern contains `*`, `?` or `[` that is not escaped with `\` (buildkit's
    /// `containsWildcards`): false means the pattern names one path literally.
    public static func hasMagic(_ pattern: String) -> Bool {
        var escaped = false
        for scalar in pattern.unicodeScalars {
            if escaped {
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "*" || scalar == "?" || scalar == "[" {
                return true
            }
        }
        return false
    }
}
