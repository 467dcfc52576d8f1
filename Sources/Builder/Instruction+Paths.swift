extension Instruction {
    /// COPY and ADD: the sources and the destination (the last word), from the JSON form or
    /// the whitespace-separated shell form, each expanded with `env`. A source that is a heredoc
    /// marker (`<<EOF`, `<<-"EOF"`) is returned as written; `heredoc(for:)` gives its heredoc.
    /// Throws `DockerfileError.syntax` for fewer than two words ("COPY requires at least two
    /// arguments…") or a heredoc as destination, and `DockerfileError.expansion` when a word
    /// does not expand.
    public func copyPaths(env: [String: String], expander: WordExpander) throws -> (sources: [String], destination: String) {
        let (sources, destination) = try located { try PathWords.sourcesAndDestination(of: self) }
        let expanded = try sources.map { source -> String in
            if HeredocMarker(word: source) != nil { return source }
            return try expander.expand(source, env: env)
        }
        return (expanded, try expander.expand(destination, env: env))
    }

    /// The argument words as docker's list forms (ADD, COPY, EXPOSE, VOLUME) read them: the JSON
    /// array's strings, or else the arguments split on spaces and tabs (quotes do not group
    /// words here); each word expanded with `env`.
    /// Throws `DockerfileError.expansion` when a word does not expand.
    public func argumentWords(env: [String: String], expander: WordExpander) throws -> [String] {
        try (json ?? DockerWords.fields(arguments)).map { try expander.expand($0, env: env) }
    }
}

/// The unexpanded words of COPY and ADD (buildkit's `parseSourcesAndDest`).
enum PathWords {
    /// The sources and destination as written.
    static func sourcesAndDestination(of instruction: Instruction) throws -> (sources: [String], destination: String) {
        let words = instruction.json ?? DockerWords.fields(instruction.arguments)
        guard let destination = words.last, words.count >= 2 else {
            throw ParseProblem("\(instruction.keyword) requires at least two arguments, but only one was provided. Destination could not be determined")
        }
        if HeredocMarker(word: destination) != nil {
            throw ParseProblem("\(instruction.keyword) cannot accept a heredoc as a destination")
        }
        return (Array(words.dropLast()), destination)
    }
}
