/// A failure inside the shell lexer, before it is wrapped with the text being processed.
struct ShellProblem: Error {
    /// docker's wording of the problem.
    var message: String

    init(_ message: String) {
        self.message = message
    }
}

/// buildkit's shell lexer (`frontend/dockerfile/shell/lex.go`): quote removal, escapes,
/// variable expansion and word splitting, over Unicode scalars.
struct ShellLexer {
    /// The lexer's switches, named after buildkit's.
    struct Options {
        /// The escape character (`\` or the `# escape=` directive's).
        var escape: Unicode.Scalar
        /// Keep quote characters in the result.
        var rawQuotes = false
        /// Keep escape characters in the result.
        var rawEscapes = false
        /// Leave references to unset variables as written instead of expanding them to "".
        var skipUnset = false
        /// Treat quotes as ordinary characters (heredoc bodies).
        var skipQuotes = false
    }

    /// How deeply `${…}` may nest before the text is rejected (docker has no limit; a call
    /// stack does).
    static let maximumNesting = 256

    private let scalars: [Unicode.Scalar]
    private let env: [String: String]
    private let options: Options
    private var position = 0
    private var rawEscapes: Bool
    private var nesting = 0

    private init(_ text: String, env: [String: String], options: Options) {
        scalars = Array(text.unicodeScalars)
        self.env = env
        self.options = options
        rawEscapes = options.rawEscapes
    }

    /// The processed text (whitespace kept) and its words (split on unquoted whitespace,
    /// including whitespace that variable values bring in).
    static func process(_ text: String, env: [String: String], options: Options) throws -> (result: String, words: [String]) {
        var lexer = ShellLexer(text, env: env, options: options)
        return try lexer.process(until: nil, rawEscapes: options.rawEscapes)
    }

    private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private mutating func next() -> Unicode.Scalar? {
        guard position < scalars.count else { return nil }
        position += 1
        return scalars[position - 1]
    }

    private mutating func process(until stop: Unicode.Scalar?, rawEscapes: Bool) throws -> (result: String, words: [String]) {
        var result = String.UnicodeScalarView()
        var words = WordCollector()
        let saved = self.rawEscapes
        self.rawEscapes = rawEscapes
        defer { self.rawEscapes = saved }
        scan: while let scalar = current {
            if let stop, scalar == stop {
                position += 1
                return (String(result), words.finish())
            }
            if scalar == "$" {
                let value = try processDollar()
                result.append(contentsOf: value.unicodeScalars)
                words.addExpanded(value)
                continue
            }
            if !options.skipQuotes && (scalar == "'" || scalar == "\"") {
                let value = try scalar == "'" ? processSingleQuote() : processDoubleQuote()
                result.append(contentsOf: value.unicodeScalars)
                words.addQuoted(value)
                continue
            }
            position += 1
            if scalar == options.escape {
                if self.rawEscapes {
                    words.addLiteral(scalar)
                    result.append(scalar)
                }
                guard let escaped = next() else { break scan }
                words.addLiteral(escaped)
                result.append(escaped)
            } else {
                words.add(scalar)
                result.append(scalar)
            }
        }
        if let stop {
            throw ShellProblem("unexpected end of statement while looking for matching \(String(scalars: [stop]))")
        }
        return (String(result), words.finish())
    }

    private mutating func processSingleQuote() throws -> String {
        position += 1
        var result = String.UnicodeScalarView()
        if options.rawQuotes { result.append("'") }
        while true {
            guard let scalar = next() else {
                throw ShellProblem("unexpected end of statement while looking for matching single-quote")
            }
            if scalar == "'" {
                if options.rawQuotes { result.append(scalar) }
                return String(result)
            }
            result.append(scalar)
        }
    }

    private mutating func processDoubleQuote() throws -> String {
        position += 1
        var result = String.UnicodeScalarView()
        if options.rawQuotes { result.append("\"") }
        while true {
            guard let scalar = current else {
                throw ShellProblem("unexpected end of statement while looking for matching double-quote")
            }
            if scalar == "\"" {
                position += 1
                if options.rawQuotes { result.append(scalar) }
                return String(result)
            }
            if scalar == "$" {
                result.append(contentsOf: try processDollar().unicodeScalars)
                continue
            }
            position += 1
            var written = scalar
            if scalar == options.escape {
                if rawEscapes { result.append(scalar) }
                // Only `"`, `$` and the escape character itself can be escaped here; any
                // other escape stays as written.
                guard let following = current else { continue }
                if following == "\"" || following == "$" || following == options.escape {
                    position += 1
                    written = following
                }
            }
            result.append(written)
        }
    }

    private mutating func processDollar() throws -> String {
        position += 1
        guard current == "{" else {
            let name = processName()
            if name.isEmpty { return "$" }
            if let value = env[name] { return value }
            return options.skipUnset ? "$" + name : ""
        }
        position += 1
        switch current {
        case nil: throw ShellProblem("syntax error: missing '}'")
        case "{", "}", ":": throw ShellProblem("syntax error: bad substitution")
        default: break
        }
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Self.maximumNesting else {
            throw ShellProblem("substitutions are nested more than \(Self.maximumNesting) deep")
        }
        let name = processName()
        guard let scalar = next() else { throw ShellProblem("syntax error: missing '}'") }
        switch scalar {
        case "}":
            if let value = env[name] { return value }
            return options.skipUnset ? "${" + name + "}" : ""
        case ":", "+", "-", "?", "#", "%":
            return try processModifier(name: name, first: scalar)
        case "/":
            return try processReplacement(name: name)
        default:
            throw ShellProblem("unsupported modifier (\(String(scalars: [scalar]))) in substitution")
        }
    }

    /// `${name:-word}`, `${name+word}`, `${name:?message}`, `${name#pattern}`, `${name%%pattern}`…
    private mutating func processModifier(name: String, first: Unicode.Scalar) throws -> String {
        var operation = first
        var modifier = String(scalars: [first])
        var nullIsUnset = false
        if first == ":" {
            nullIsUnset = true
            guard let second = next() else { throw ShellProblem("syntax error: missing '}'") }
            operation = second
            modifier.unicodeScalars.append(second)
        }
        let word = try processWord(until: "}", rawEscapes: operation == "#" || operation == "%", missing: "syntax error: missing '}'")
        let value = env[name]
        if options.skipUnset && value == nil { return "${" + name + modifier + word + "}" }
        let isNull = value == nil || (nullIsUnset && value == "")
        switch operation {
        case "-":
            return isNull ? word : value ?? ""
        case "+":
            return isNull ? "" : word
        case "?":
            guard let value else {
                throw ShellProblem("\(name): \(word.isEmpty ? "is not allowed to be unset" : word)")
            }
            if nullIsUnset && value.isEmpty {
                throw ShellProblem("\(name): \(word.isEmpty ? "is not allowed to be empty" : word)")
            }
            return value
        case "#", "%":
            var pattern = word
            var longest = false
            if pattern.firstScalar == operation {
                longest = true
                pattern = String(pattern.unicodeScalars.dropFirst())
            }
            if operation == "#" {
                return try ShellPattern.removingPrefix(of: value ?? "", matching: pattern, longest: longest)
            }
            return try ShellPattern.removingSuffix(of: value ?? "", matching: pattern, longest: longest)
        default:
            throw ShellProblem("unsupported modifier (\(modifier)) in substitution")
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`.
    private mutating func processReplacement(name: String) throws -> String {
        let all = current == "/"
        if all { position += 1 }
        let pattern = try processWord(until: "/", rawEscapes: true, missing: "syntax error: missing '/' in ${}")
        let replacement = try processWord(until: "}", rawEscapes: true, missing: "syntax error: missing '}'")
        let value = env[name]
        if options.skipUnset && value == nil { return "${" + name + "/" + pattern + "/" + replacement + "}" }
        return try ShellPattern.replacing(in: value ?? "", pattern: pattern, with: replacement, all: all)
    }

    /// The text up to `stop`, processed; at the end of the input the error says `missing`.
    private mutating func processWord(until stop: Unicode.Scalar, rawEscapes: Bool, missing: String) throws -> String {
        do {
            return try process(until: stop, rawEscapes: rawEscapes).result
        } catch {
            if current == nil { throw ShellProblem(missing) }
            throw error
        }
    }

    /// A variable name: letters, digits and `_`; a run of digits; or one special parameter.
    private mutating func processName() -> String {
        var name = String.UnicodeScalarView()
        while let scalar = current {
            if name.isEmpty && scalar.isGoDigit {
                while let digit = current, digit.isGoDigit {
                    name.append(digit)
                    position += 1
                }
                return String(name)
            }
            if name.isEmpty && "@*#?-$!0".unicodeScalars.contains(scalar) {
                position += 1
                return String(scalars: [scalar])
            }
            guard scalar.isGoLetter || scalar.isGoDigit || scalar == "_" else { break }
            name.append(scalar)
            position += 1
        }
        return String(name)
    }
}

/// The words of a lexed text: whitespace from the text or from variable values splits words;
/// quoted and escaped characters never do.
private struct WordCollector {
    private var word = String.UnicodeScalarView()
    private var words: [String] = []
    private var inWord = false

    mutating func add(_ scalar: Unicode.Scalar) {
        if scalar.isGoSpace {
            if inWord && !word.isEmpty {
                words.append(String(word))
                word = String.UnicodeScalarView()
                inWord = false
            }
        } else {
            addLiteral(scalar)
        }
    }

    mutating func addLiteral(_ scalar: Unicode.Scalar) {
        word.append(scalar)
        inWord = true
    }

    mutating func addExpanded(_ text: String) {
        for scalar in text.unicodeScalars { add(scalar) }
    }

    mutating func addQuoted(_ text: String) {
        word.append(contentsOf: text.unicodeScalars)
        inWord = true
    }

    mutating func finish() -> [String] {
        if !word.isEmpty {
            words.append(String(word))
            word = String.UnicodeScalarView()
            inWord = false
        }
        return words
    }
}
