/// One element of a compiled glob pattern.
enum GlobToken: Sendable, Equatable {
    /// Exactly this scalar.
    case literal(Unicode.Scalar)
    /// Any one scalar (`?`); "/" only when `crossesSlash`.
    case anyOne(crossesSlash: Bool)
    /// Any run of scalars, possibly empty (`*`); containing "/" only when `crossesSlash`.
    case anyRun(crossesSlash: Bool)
    /// Nothing, or any text that ends in "/" (`**/` in a `.dockerignore`, `(.*/)?`).
    case directories
    /// One scalar of a `[…]` class.
    case oneOf(ScalarClass)
}

/// A `[…]` character class: ranges, possibly negated with `^`.
struct ScalarClass: Sendable, Equatable {
    /// An inclusive range of scalar values; one whose `low` exceeds `high` matches nothing (as in Go).
    struct Range: Sendable, Equatable {
        var low: UInt32
        var high: UInt32
    }

    var negated: Bool
    var ranges: [Range]

    /// Whether `scalar` is in the class.
    func contains(_ scalar: Unicode.Scalar) -> Bool {
        ranges.contains { $0.low <= scalar.value && scalar.value <= $0.high } != negated
    }
}

/// Runs compiled glob patterns over text by tracking every position the pattern can have
/// reached: linear in the pattern times the text, whatever the pattern (no backtracking).
enum GlobMatcher {
    /// The positions reachable after the whole pattern, and whether the end of the text was
    /// reachable at some point.
    struct Run {
        /// `ends[k]` is true when the pattern matches exactly the first `k` scalars.
        var ends: [Bool]
        /// True when some prefix of the pattern matches the whole text, so the text is a prefix
        /// of something the pattern could match.
        var reachedEnd: Bool
    }

    /// Whether the pattern matches all of `text`.
    static func matches<Tokens: Sequence>(_ tokens: Tokens, _ text: [Unicode.Scalar]) -> Bool where Tokens.Element == GlobToken {
        run(tokens, over: text, in: 0..<text.count).ends[text.count]
    }

    /// Runs the pattern over `text[range]`; positions in the result count from `range.lowerBound`.
    static func run<Tokens: Sequence>(_ tokens: Tokens, over text: [Unicode.Scalar], in range: Swift.Range<Int>) -> Run
    where Tokens.Element == GlobToken {
        let count = range.count
        let base = range.lowerBound
        var current = [Bool](repeating: false, count: count + 1)
        current[0] = true
        var reachedEnd = count == 0
        for token in tokens {
            var next = [Bool](repeating: false, count: count + 1)
            var any = false
            switch token {
            case .literal(let expected):
                for position in 0..<count where current[position] && text[base + position] == expected {
                    next[position + 1] = true
                    any = true
                }
            case .anyOne(let crossesSlash):
                for position in 0..<count where current[position] && (crossesSlash || text[base + position] != "/") {
                    next[position + 1] = true
                    any = true
                }
            case .oneOf(let set):
                for position in 0..<count where current[position] && set.contains(text[base + position]) {
                    next[position + 1] = true
                    any = true
                }
            case .anyRun(let crossesSlash):
                var active = false
                for position in 0...count {
                    if current[position] { active = true }
                    if active {
                        next[position] = true
                        any = true
                    }
                    if position < count && !crossesSlash && text[base + position] == "/" { active = false }
                }
            case .directories:
                var seen = false
                for position in 0...count {
                    if position > 0 && seen && text[base + position - 1] == "/" {
                        next[position] = true
                        any = true
                    }
                    if current[position] {
                        seen = true
                        next[position] = true
                        any = true
                    }
                }
            }
            current = next
            if current[count] { reachedEnd = true }
            if !any { break }
        }
        return Run(ends: current, reachedEnd: reachedEnd)
    }
}

/// The syntax of Go's `filepath.Match` patterns, shared by COPY sources and `.dockerignore`.
enum GlobSyntax {
    /// The tokens of `pattern`, or nil when it is malformed (an unclosed or empty `[…]`, a
    /// range with a missing end, a trailing `\`). With `doubleStar`, `**` is the `.dockerignore`
    /// wildcard for any number of directories.
    static func tokens(_ pattern: String, doubleStar: Bool) -> [GlobToken]? {
        let scalars = Array(pattern.unicodeScalars)
        var tokens: [GlobToken] = []
        var position = 0
        while position < scalars.count {
            let scalar = scalars[position]
            position += 1
            switch scalar {
            case "*":
                guard doubleStar, position < scalars.count, scalars[position] == "*" else {
                    tokens.append(.anyRun(crossesSlash: false))
                    continue
                }
                position += 1
                if position < scalars.count && scalars[position] == "/" { position += 1 }
                tokens.append(position == scalars.count ? .anyRun(crossesSlash: true) : .directories)
            case "?":
                tokens.append(.anyOne(crossesSlash: false))
            case "[":
                guard let (set, end) = characterClass(scalars, from: position) else { return nil }
                tokens.append(.oneOf(set))
                position = end
            case "\\":
                guard position < scalars.count else { return nil }
                tokens.append(.literal(scalars[position]))
                position += 1
            default:
                tokens.append(.literal(scalar))
            }
        }
        return tokens
    }

    /// The class that starts after a `[` at `start`, and the position after its `]`.
    private static func characterClass(_ scalars: [Unicode.Scalar], from start: Int) -> (ScalarClass, Int)? {
        var position = start
        var set = ScalarClass(negated: false, ranges: [])
        if position < scalars.count && scalars[position] == "^" {
            set.negated = true
            position += 1
        }
        while true {
            if position < scalars.count && scalars[position] == "]" && !set.ranges.isEmpty {
                return (set, position + 1)
            }
            guard let (low, afterLow) = classScalar(scalars, at: position) else { return nil }
            position = afterLow
            var high = low
            if scalars[position] == "-" {
                guard let (end, afterHigh) = classScalar(scalars, at: position + 1) else { return nil }
                high = end
                position = afterHigh
            }
            set.ranges.append(ScalarClass.Range(low: low.value, high: high.value))
        }
    }

    /// One (possibly escaped) scalar of a class and the position after it; nil where Go's
    /// `getEsc` fails, including when nothing follows it.
    private static func classScalar(_ scalars: [Unicode.Scalar], at start: Int) -> (Unicode.Scalar, Int)? {
        guard start < scalars.count, scalars[start] != "-", scalars[start] != "]" else { return nil }
        var position = start
        if scalars[position] == "\\" {
            position += 1
            guard position < scalars.count else { return nil }
        }
        guard position + 1 < scalars.count else { return nil }
        return (scalars[position], position + 1)
    }
}
