/// The patterns of `${x#pattern}`, `${x%pattern}` and `${x/pattern/replacement}`, as buildkit
/// reads them: `*` is any text, `?` any one character, `\*`, `\?` and `\\` are literal, `\}` and
/// `\/` drop the backslash, and every other character is itself (there are no `[…]` classes).
enum ShellPattern {
    /// `value` without its shortest (or `longest`) prefix matching `pattern`; unchanged when no
    /// prefix matches.
    static func removingPrefix(of value: String, matching pattern: String, longest: Bool) throws -> String {
        let text = Array(value.unicodeScalars)
        let ends = GlobMatcher.run(try tokens(pattern), over: text, in: 0..<text.count).ends
        let lengths = longest ? Array((0...text.count).reversed()) : Array(0...text.count)
        guard let length = lengths.first(where: { ends[$0] }) else { return value }
        return String(scalars: text[length...])
    }

    /// `value` without its shortest (or `longest`) suffix matching `pattern`; unchanged when no
    /// suffix matches.
    static func removingSuffix(of value: String, matching pattern: String, longest: Bool) throws -> String {
        let reversed = Array(value.unicodeScalars.reversed())
        let ends = GlobMatcher.run(try tokens(pattern).reversed(), over: reversed, in: 0..<reversed.count).ends
        let lengths = longest ? Array((0...reversed.count).reversed()) : Array(0...reversed.count)
        guard let length = lengths.first(where: { ends[$0] }) else { return value }
        return String(scalars: reversed[length...].reversed())
    }

    /// `value` with the leftmost longest match of `pattern` (or, with `all`, every successive
    /// match, an empty match next to the previous one ignored as Go does) replaced literally.
    static func replacing(in value: String, pattern: String, with replacement: String, all: Bool) throws -> String {
        let tokens = try tokens(pattern)
        let text = Array(value.unicodeScalars)
        var result = String.UnicodeScalarView()
        var position = 0
        var previousEnd = -1
        var replaced = false
        while position <= text.count {
            if all || !replaced {
                let ends = GlobMatcher.run(tokens, over: text, in: position..<text.count).ends
                if let length = ends.lastIndex(of: true), !(length == 0 && previousEnd == position) {
                    result.append(contentsOf: replacement.unicodeScalars)
                    replaced = true
                    previousEnd = position + length
                    if length > 0 {
                        position += length
                        continue
                    }
                }
            }
            if position < text.count { result.append(text[position]) }
            position += 1
        }
        return String(result)
    }

    /// The tokens of a substitution pattern.
    private static func tokens(_ pattern: String) throws -> [GlobToken] {
        let scalars = Array(pattern.unicodeScalars)
        var tokens: [GlobToken] = []
        var position = 0
        while position < scalars.count {
            let scalar = scalars[position]
            position += 1
            switch scalar {
            case "*":
                tokens.append(.anyRun(crossesSlash: true))
            case "?":
                tokens.append(.anyOne(crossesSlash: true))
            case "\\":
                guard position < scalars.count else {
                    throw ShellProblem("invalid pattern (\(pattern)) in substitution: invalid escape at the end of the pattern")
                }
                let escaped = scalars[position]
                if escaped == "}" || escaped == "/" { continue }
                guard escaped == "*" || escaped == "?" || escaped == "\\" else {
                    throw ShellProblem("invalid pattern (\(pattern)) in substitution: invalid escape '\\\(String(scalars: [escaped]))'")
                }
                tokens.append(.literal(escaped))
                position += 1
            default:
                tokens.append(.literal(scalar))
            }
        }
        return tokens
    }
}
