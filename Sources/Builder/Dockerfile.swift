/// A parsed Dockerfile, following Docker's `dockerfile:1` syntax
/// (docs.docker.com/reference/dockerfile).
public struct Dockerfile: Sendable, Equatable {
    /// The escape character, from the `# escape=` parser directive: `\` by default, or a backtick.
    public var escape: Character
    /// The `# syntax=` parser directive's value, kept as written and not acted on.
    public var syntax: String?
    /// The `# check=` parser directive's value, kept as written and not acted on.
    public var check: String?
    /// The ARG instructions before the first FROM, which FROM lines may use.
    public var globalArgs: [Instruction]
    /// The build stages in file order; there is at least one.
    public var stages: [Stage]

    /// Parses `text` with docker's rules: parser directives, comments, line continuations,
    /// heredocs, known instructions and their arguments, and stages. `fileName` is the name
    /// errors give the file.
    /// Throws `DockerfileError`: `.syntax` and `.unknownInstruction` with the line to fix,
    /// `.noInstructions` for a file of only comments and blank lines, `.noStages` for one
    /// without FROM.
    public init(parsing text: String, fileName: String = "Dockerfile") throws {
        var scanner = InstructionScanner(text, file: fileName, readsDirectives: true)
        var instructions: [Instruction] = []
        while let logical = try scanner.nextLogicalLine() {
            var instruction = try Instruction.read(logical.text, line: logical.line, escape: scanner.escape, file: fileName)
            try instruction.readHeredocs(from: &scanner, logicalLine: logical.text, escape: scanner.escape)
            instructions.append(instruction)
        }
        guard !instructions.isEmpty else { throw DockerfileError.noInstructions(file: fileName) }

        var globalArgs: [Instruction] = []
        var stages: [Stage] = []
        var names: Set<String> = []
        for instruction in instructions {
            try instruction.validate(escape: scanner.escape)
            if instruction.keyword == "FROM" {
                let stage = Stage(index: stages.count, from: instruction)
                if let name = stage.name, !names.insert(name).inserted {
                    throw DockerfileError.syntax(file: fileName, line: instruction.line,
                                                 message: "duplicate stage name \(goQuoted(name)): each AS name must be unique")
                }
                stages.append(stage)
            } else if stages.isEmpty {
                guard instruction.keyword == "ARG" else {
                    throw DockerfileError.syntax(file: fileName, line: instruction.line,
                                                 message: "no build stage in current context: only ARG may come before the first FROM")
                }
                globalArgs.append(instruction)
            } else {
                stages[stages.count - 1].instructions.append(instruction)
            }
        }
        guard !stages.isEmpty else { throw DockerfileError.noStages(file: fileName) }

        escape = Character(scanner.escape)
        syntax = scanner.syntax
        check = scanner.check
        self.globalArgs = globalArgs
        self.stages = stages
    }

    /// The stage called `named` (its AS name, compared case-insensitively) or, when no stage has
    /// that name, the stage at that decimal index; nil when there is neither.
    public func stage(named: String) -> Stage? {
        let lowered = named.lowercased()
        if let stage = stages.first(where: { $0.name == lowered }) { return stage }
        guard !named.isEmpty, named.unicodeScalars.allSatisfy(\.isASCIIDigit), let index = Int(named),
              stages.indices.contains(index) else { return nil }
        return stages[index]
    }
}
