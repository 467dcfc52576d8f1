extension Instruction {
    /// Applies the checks docker makes after parsing (buildkit's `instructions.Parse`): a known
    /// keyword, the flags the instruction accepts, and its arguments.
    /// Throws `DockerfileError.unknownInstruction` or `DockerfileError.syntax` at this line.
    func validate(escape: Unicode.Scalar) throws {
        guard let kind = Keyword(written: keyword) else {
            throw DockerfileError.unknownInstruction(file: file, line: line, keyword: keyword)
        }
        try located { try check(kind, escape: escape) }
        if kind == .onbuild { try validateTrigger(escape: escape) }
    }

    private func check(_ kind: Keyword, escape: Unicode.Scalar) throws {
        // HEALTHCHECK NONE takes no flags and ignores any, as in docker; CMD checks them.
        if kind != .healthcheck { try BuilderFlags.check(flags, allowed: kind.flagKinds) }
        switch kind {
        case .from:
            let words = DockerWords.fields(arguments)
            if words.count == 3 && words[1].lowercased() == "as" {
                guard StageName.isValid(words[2].lowercased()) else {
                    throw ParseProblem("invalid name for build stage: \(goQuoted(words[2])), name can't start with a number or contain symbols")
                }
            } else if words.count != 1 {
                throw ParseProblem("FROM requires either one or three arguments")
            }
        case .run:
            if arguments.isEmpty || json == [] { throw ParseProblem("RUN requires at least one argument") }
        case .cmd, .entrypoint:
            break
        case .shell:
            guard let json else {
                if arguments.isEmpty { throw ParseProblem("SHELL requires at least one argument") }
                throw ParseProblem(Self.notJSONMessage("SHELL", arguments))
            }
            if json.isEmpty { throw ParseProblem("SHELL requires at least one argument") }
        case .env, .label:
            _ = try KeyValueSyntax.pairs(arguments, keyword: kind.name, escape: escape, checksNames: true)
        case .arg:
            _ = try KeyValueSyntax.declarations(arguments, escape: escape)
        case .add, .copy:
            _ = try PathWords.sourcesAndDestination(of: self)
        case .expose:
            if arguments.isEmpty { throw ParseProblem("EXPOSE requires at least one argument") }
        case .volume:
            let words = json ?? DockerWords.fields(arguments)
            if words.isEmpty { throw ParseProblem("VOLUME requires at least one argument") }
            if words.contains(where: { $0.trimmingGoSpace().isEmpty }) {
                throw ParseProblem("VOLUME specified can not be an empty string")
            }
        case .user, .workdir, .stopsignal, .maintainer:
            if arguments.isEmpty { throw ParseProblem("\(kind.name) requires exactly one argument") }
        case .onbuild:
            if arguments.isEmpty { throw ParseProblem("ONBUILD requires at least one argument") }
        case .healthcheck:
            _ = try HealthcheckSyntax.healthcheck(of: self)
        }
    }

    /// ONBUILD: the trigger is an instruction docker allows as a trigger, and valid itself.
    private func validateTrigger(escape: Unicode.Scalar) throws {
        var trigger = try Instruction.read(arguments, line: line, escape: escape, file: file)
        if let problem = Self.triggerProblem(trigger.keyword.uppercased()) {
            throw DockerfileError.syntax(file: file, line: line, message: problem)
        }
        trigger.heredocs = heredocs
        try trigger.validate(escape: escape)
    }

    /// docker's message for SHELL not in the JSON form, with its hint about unescaped Windows
    /// paths in what was meant as JSON.
    private static func notJSONMessage(_ keyword: String, _ arguments: String) -> String {
        var message = "\(keyword) requires the arguments to be in JSON form"
        let text = arguments.lowercased()
        let scalars = Array(text.unicodeScalars)
        let hasDrivePath = scalars.indices.contains { index in
            index + 3 < scalars.count && scalars[index] == "\"" && (0x61...0x7A).contains(scalars[index + 1].value)
                && scalars[index + 2] == ":" && scalars[index + 3] == "\\"
        }
        if hasDrivePath && text.unicodeScalars.contains("[") && text.unicodeScalars.contains("]")
            && !containsDoubleBackslash(scalars) {
            message += ". It looks like '\(text)' includes a file path without an escaped back-slash. JSON requires back-slashes to be escaped such as [\"c:\\\\path\\\\to\\\\file.exe\", \"/parameter\"]"
        }
        return message
    }

    private static func containsDoubleBackslash(_ scalars: [Unicode.Scalar]) -> Bool {
        zip(scalars, scalars.dropFirst()).contains { $0 == "\\" && $1 == "\\" }
    }
}

/// Build stage names: `[a-z][a-z0-9-_.]*`.
enum StageName {
    /// Whether `name` (already lower-cased) is a valid stage name.
    static func isValid(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, (0x61...0x7A).contains(first.value) else { return false }
        return scalars.dropFirst().allSatisfy { scalar in
            (0x61...0x7A).contains(scalar.value) || scalar.isASCIIDigit || scalar == "-" || scalar == "_" || scalar == "."
        }
    }
}
