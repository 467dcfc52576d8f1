extension Instruction {
    /// The instruction on one logical line, with the checks docker's parser makes while it reads
    /// (JSON arrays of non-strings, ENV and LABEL forms); the checks docker makes afterwards are
    /// in `validate(escape:)`. An unknown keyword is kept as written, for `validate` to report.
    static func read(_ text: String, line: Int, escape: Unicode.Scalar, file: String) throws -> Instruction {
        do {
            return try readLine(text, line: line, escape: escape, file: file, nested: false)
        } catch let problem as ParseProblem {
            throw DockerfileError.syntax(file: file, line: line, message: problem.message)
        }
    }

    private static func readLine(_ text: String, line: Int, escape: Unicode.Scalar, file: String, nested: Bool) throws -> Instruction {
        let (written, rest) = DockerWords.splitFirst(text.trimmingGoSpace())
        let (flagWords, remainder) = BuilderFlags.extract(rest)
        let arguments = remainder.trimmingGoSpace()
        let kind = Keyword(written: written)
        var instruction = Instruction(
            keyword: kind?.name ?? written,
            flags: flagWords.map(Flag.init(word:)),
            arguments: arguments,
            heredocs: [],
            line: line,
            source: rest.isEmpty ? written : written + " " + rest,
            json: nil,
            file: file)
        guard let kind else { return instruction }
        if kind.acceptsJSON { instruction.json = try jsonForm(arguments) }
        switch kind {
        case .env, .label:
            if !DockerWords.split(arguments, escape: escape).isEmpty {
                _ = try KeyValueSyntax.pairs(arguments, keyword: kind.name, escape: escape, checksNames: false)
            }
        case .healthcheck:
            _ = try jsonForm(HealthcheckSyntax.split(arguments).command)
        case .onbuild where !nested && !arguments.isEmpty:
            _ = try readLine(arguments, line: line, escape: escape, file: file, nested: true)
        default:
            break
        }
        return instruction
    }

    /// The JSON array of strings `text` is, nil when it is not JSON (the shell form).
    /// Throws when it is a JSON array with an element that is not a string, as docker does.
    static func jsonForm(_ text: String) throws -> [String]? {
        switch JSONStringArray.parse(text) {
        case .strings(let strings): return strings
        case .notStrings: throw ParseProblem("when using JSON array syntax, arrays must be comprised of strings only")
        case .invalid: return nil
        }
    }

    /// Reads the bodies of the heredocs `logicalLine` starts, if the instruction takes heredocs.
    mutating func readHeredocs(from scanner: inout InstructionScanner, logicalLine: String, escape: Unicode.Scalar) throws {
        guard acceptsHeredocs(escape: escape), logicalLine.containsDoubleLessThan else { return }
        let markers = HeredocMarker.markers(inLine: logicalLine)
        guard !markers.isEmpty else { return }
        let bodies = scanner.readBodies(for: markers)
        guard bodies.count == markers.count else {
            let name = markers[bodies.count].name
            throw DockerfileError.syntax(file: file, line: line,
                                         message: "unterminated heredoc: the file ends before a line \(goQuoted(name)) closes it")
        }
        heredocs = bodies
    }

    /// Whether docker looks for heredoc markers on this instruction's line: RUN, COPY or ADD in
    /// the shell form, directly or as an ONBUILD trigger.
    private func acceptsHeredocs(escape: Unicode.Scalar) -> Bool {
        guard let kind = Keyword(written: keyword) else { return false }
        if kind == .onbuild {
            guard let trigger = try? Instruction.readLine(arguments, line: line, escape: escape, file: file, nested: true),
                  let triggerKind = Keyword(written: trigger.keyword) else { return false }
            return triggerKind.acceptsHeredocs && trigger.json == nil
        }
        return kind.acceptsHeredocs && json == nil
    }
}
