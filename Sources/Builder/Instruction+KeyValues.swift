extension Instruction {
    /// ENV and LABEL: the `key=value` pairs (values may be quoted: `k2="v 2"`; LABEL keys too),
    /// or the legacy `ENV key value with spaces` form (one key, the rest of the line its value).
    /// Keys and values are expanded with `env`, the environment before this instruction: every
    /// pair sees the same `env`, as in docker.
    /// Throws `DockerfileError.syntax` in docker's words ("ENV names can not be blank",
    /// "ENV must have two arguments", "Syntax error - can't find = in …") and
    /// `DockerfileError.expansion` when a key or value does not expand.
    public func keyValuePairs(env: [String: String], expander: WordExpander) throws -> [(key: String, value: String)] {
        let pairs = try located {
            try KeyValueSyntax.pairs(arguments, keyword: keyword, escape: expander.escapeCharacter, checksNames: true)
        }
        return try pairs.map { (key: try expander.expand($0.key, env: env), value: try expander.expand($0.value, env: env)) }
    }

    /// ARG: the declared names and their defaults (nil for `ARG name` without `=`), both
    /// expanded with `env`; every declaration sees the same `env`.
    /// Throws `DockerfileError.syntax` for no declarations or a blank name, and
    /// `DockerfileError.expansion` when a name or default does not expand.
    public func argDeclarations(env: [String: String], expander: WordExpander) throws -> [(name: String, defaultValue: String?)] {
        let declarations = try located { try KeyValueSyntax.declarations(arguments, escape: expander.escapeCharacter) }
        return try declarations.map { declaration in
            (name: try expander.expand(declaration.name, env: env),
             defaultValue: try declaration.defaultValue.map { try expander.expand($0, env: env) })
        }
    }
}

/// The unexpanded pairs of ENV, LABEL and ARG (buildkit's `parseNameVal`, `parseKvps` and
/// `parseArg`).
enum KeyValueSyntax {
    /// ENV or LABEL pairs as written. `checksNames` adds the checks docker makes after parsing:
    /// at least one pair, no blank key.
    static func pairs(_ arguments: String, keyword: String, escape: Unicode.Scalar, checksNames: Bool) throws -> [(key: String, value: String)] {
        let words = DockerWords.split(arguments, escape: escape)
        guard let first = words.first else {
            if checksNames { throw ParseProblem("\(keyword) requires at least one argument") }
            return []
        }
        guard first.unicodeScalars.contains("=") else {
            let (key, value) = DockerWords.splitFirst(arguments)
            guard !value.isEmpty else { throw ParseProblem("\(keyword) must have two arguments") }
            return [(key, value)]
        }
        return try words.map { word in
            guard let (key, value) = split(word) else {
                throw ParseProblem("Syntax error - can't find = in \(goQuoted(word)). Must be of the form: name=value")
            }
            if checksNames && key.isEmpty { throw ParseProblem("\(keyword) names can not be blank") }
            return (key, value)
        }
    }

    /// ARG declarations as written: `name` or `name=default`.
    static func declarations(_ arguments: String, escape: Unicode.Scalar) throws -> [(name: String, defaultValue: String?)] {
        let words = DockerWords.split(arguments, escape: escape)
        guard !words.isEmpty else { throw ParseProblem("ARG requires at least one argument") }
        return try words.map { word in
            guard let (name, value) = split(word) else { return (word, nil) }
            if name.isEmpty { throw ParseProblem("ARG names can not be blank") }
            return (name, value)
        }
    }

    /// The text before and after the first `=`, nil when there is none.
    private static func split(_ word: String) -> (String, String)? {
        let scalars = word.unicodeScalars
        guard let equals = scalars.firstIndex(of: "=") else { return nil }
        return (String(scalars[..<equals]), String(scalars[scalars.index(after: equals)...]))
    }
}
