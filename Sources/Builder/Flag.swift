/// A leading `--name[=value]` word of an instruction, with quotes removed.
public struct Flag: Sendable, Equatable {
    /// The name without the leading `--`: `chown` for `--chown=a:b`.
    public var name: String
    /// The text after the first `=`; nil for a bare flag such as `--link`.
    public var value: String?

    /// A flag with this name and value.
    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }

    /// The flag of a `--name[=value]` word.
    init(word: String) {
        var body = Substring(word)
        if body.hasPrefix("--") { body = body.dropFirst(2) }
        let scalars = body.unicodeScalars
        if let equals = scalars.firstIndex(of: "=") {
            name = String(scalars[..<equals])
            value = String(scalars[scalars.index(after: equals)...])
        } else {
            name = String(body)
            value = nil
        }
    }
}

/// docker's reading of the flags at the start of an instruction's arguments
/// (buildkit's `extractBuilderFlags` and `BFlags.Parse`).
enum BuilderFlags {
    /// The leading `--…` words (quotes removed, `\` escapes applied) and the text from the first
    /// word that is not a flag. A lone `--` ends the flags and is dropped.
    static func extract(_ line: String) -> (flags: [String], rest: String) {
        let scalars = Array(line.unicodeScalars)
        var flags: [String] = []
        var word = String.UnicodeScalarView()
        var inWord = false
        var quote: Unicode.Scalar?
        var blankOK = false
        var position = 0
        while position < scalars.count {
            let scalar = scalars[position]
            if !inWord {
                if scalar.isGoSpace {
                    position += 1
                    continue
                }
                guard scalar == "-", position + 1 < scalars.count, scalars[position + 1] == "-" else {
                    return (flags, String(scalars: scalars[position...]))
                }
                inWord = true
            }
            if let open = quote {
                position += 1
                if scalar == open {
                    quote = nil
                } else if scalar == "\\" {
                    if position == scalars.count {
                        quote = nil
                    } else {
                        word.append(scalars[position])
                        position += 1
                    }
                } else {
                    word.append(scalar)
                }
                continue
            }
            if scalar.isGoSpace {
                let text = String(word)
                if text == "--" { return (flags, String(scalars: scalars[position...])) }
                if blankOK || !text.isEmpty { flags.append(text) }
                word = String.UnicodeScalarView()
                blankOK = false
                inWord = false
                position += 1
                continue
            }
            position += 1
            if scalar == "'" || scalar == "\"" {
                quote = scalar
                blankOK = true
            } else if scalar == "\\" {
                if position < scalars.count {
                    word.append(scalars[position])
                    position += 1
                }
            } else {
                word.append(scalar)
            }
        }
        if inWord {
            let text = String(word)
            if text != "--" && (blankOK || !text.isEmpty) { flags.append(text) }
        }
        return (flags, "")
    }

    /// Checks flags against what an instruction accepts, with docker's messages: unknown flags,
    /// a non-repeatable flag given twice, a missing value, a boolean that is not true or false.
    static func check(_ flags: [Flag], allowed: [String: FlagKind]) throws {
        var used: Set<String> = []
        for flag in flags {
            guard let kind = allowed[flag.name] else {
                var message = "unknown flag: \(flag.name)"
                if let near = NearestName.closest(to: flag.name, among: allowed.keys.sorted()) {
                    message += " (did you mean \(near)?)"
                }
                throw ParseProblem(message)
            }
            if used.contains(flag.name) && kind != .strings {
                throw ParseProblem("duplicate flag specified: \(flag.name)")
            }
            used.insert(flag.name)
            switch kind {
            case .bool:
                guard let value = flag.value else { continue }
                if value.isEmpty { throw ParseProblem("missing a value on flag: \(flag.name)") }
                guard ["true", "false"].contains(value.lowercased()) else {
                    throw ParseProblem("expecting boolean value for flag \(flag.name), not: \(value)")
                }
            case .string, .strings:
                if flag.value == nil { throw ParseProblem("missing a value on flag: \(flag.name)") }
            }
        }
    }
}
