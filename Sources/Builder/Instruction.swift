/// One Dockerfile instruction as docker's parser reads it: the keyword, the leading flags, the
/// argument text, heredoc bodies and where it came from.
public struct Instruction: Sendable, Equatable {
    /// The keyword in upper case ("RUN", "COPY", …), whatever case the file used.
    public var keyword: String
    /// The leading `--name[=value]` words in order, quotes removed. Only FROM, RUN, COPY, ADD and
    /// HEALTHCHECK accept flags, and only the flags docker defines for them; a parsed
    /// instruction of any other kind has none.
    public var flags: [Flag]
    /// The text after the keyword and flags: continuation lines joined (each escape character
    /// and line break removed), comment and blank lines inside the continuation dropped,
    /// surrounding whitespace trimmed. Heredoc bodies are not part of it.
    public var arguments: String
    /// The heredocs whose bodies followed the instruction line, in the order of their `<<`
    /// markers (RUN, COPY and ADD in the shell form, and ONBUILD with one of them as trigger).
    public var heredocs: [Heredoc]
    /// The 1-based line of the keyword.
    public var line: Int
    /// The instruction as docker prints it in "Step N/M : …": the keyword as written, a space,
    /// then the flags and arguments as written, continuation lines joined into one line.
    public var source: String
    /// `arguments` as a JSON array of strings when they are exactly that and the instruction has
    /// an exec or list form (RUN, CMD, ENTRYPOINT, SHELL, ADD, COPY, VOLUME); nil otherwise.
    public var json: [String]?
    /// The name of the Dockerfile the instruction came from, for error messages.
    public var file: String

    /// `.exec` with the JSON array when there is one, else `.shell` with the arguments.
    public var command: Command {
        json.map(Command.exec) ?? .shell(arguments)
    }

    /// The value given last for the flag (`""` for a bare `--name`), nil when it was not given.
    public func flag(_ name: String) -> String? {
        flags.last(where: { $0.name == name }).map { $0.value ?? "" }
    }

    /// Every value given for the flag, in order (`""` for a bare `--name`): repeated `--mount`s.
    public func flagValues(_ name: String) -> [String] {
        flags.filter { $0.name == name }.map { $0.value ?? "" }
    }

    /// Whether a boolean flag such as `--link` is on: given bare or as `=true` (any case).
    public func booleanFlag(_ name: String) -> Bool {
        guard let value = flag(name) else { return false }
        return value.isEmpty || value.lowercased() == "true"
    }

    /// The ONBUILD trigger as docker stores it in an image's `OnBuild` list: the arguments,
    /// then for each heredoc a line break, its body and its delimiter. For any other
    /// instruction, the arguments.
    public var triggerText: String {
        heredocs.reduce(arguments) { text, heredoc in text + "\n" + heredoc.content + heredoc.name }
    }

    /// The heredoc a COPY or ADD source such as `<<EOF` refers to; nil when `source` is not a
    /// heredoc marker or names no heredoc of this instruction.
    public func heredoc(for source: String) -> Heredoc? {
        guard let marker = HeredocMarker(word: source) else { return nil }
        return heredocs.first(where: { $0.name.hasSameScalars(as: marker.name) })
    }
}

extension Instruction {
    /// Parses one instruction, such as an ONBUILD trigger: a line (continuations allowed),
    /// followed by the bodies of its heredocs if it has any. `line` is the number given to its
    /// first line; the file is called "Dockerfile" in errors.
    /// Throws `DockerfileError` for an unknown instruction, bad syntax, or more than one
    /// instruction in `text`.
    public init(parsing text: String, line: Int, escape: Character = "\\") throws {
        try self.init(parsing: text, line: line, escape: escape, file: "Dockerfile")
    }

    /// Parses one instruction as `init(parsing:line:escape:)` does, naming `file` in errors.
    public init(parsing text: String, line: Int, escape: Character, file: String) throws {
        guard escape == "\\" || escape == "`", let scalar = escape.unicodeScalars.first else {
            throw DockerfileError.syntax(file: file, line: line, message: "invalid escape token '\(escape)' does not match ` or \\")
        }
        var scanner = InstructionScanner(text, file: file, firstLineNumber: line, escape: scalar, readsDirectives: false)
        guard let logical = try scanner.nextLogicalLine() else {
            throw DockerfileError.syntax(file: file, line: line, message: "no instruction to parse: the text is empty or only comments")
        }
        var instruction = try Instruction.read(logical.text, line: logical.line, escape: scalar, file: file)
        try instruction.readHeredocs(from: &scanner, logicalLine: logical.text, escape: scalar)
        if let extra = try scanner.nextLogicalLine() {
            throw DockerfileError.syntax(file: file, line: extra.line, message: "expected one instruction, found another: \(extra.text)")
        }
        try instruction.validate(escape: scalar)
        self = instruction
    }

    /// Parses an ONBUILD trigger taken from an image's `OnBuild` list, as `init(parsing:line:escape:)`
    /// does, and also applies docker's trigger rules: no ONBUILD, FROM or MAINTAINER.
    public init(parsingTrigger text: String, line: Int, escape: Character = "\\") throws {
        let instruction = try Instruction(parsing: text, line: line, escape: escape)
        if let problem = Self.triggerProblem(instruction.keyword) {
            throw DockerfileError.syntax(file: instruction.file, line: line, message: problem)
        }
        self = instruction
    }

    /// Why an instruction with this (upper-cased) keyword cannot be an ONBUILD trigger.
    static func triggerProblem(_ keyword: String) -> String? {
        switch keyword {
        case "ONBUILD": return "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
        case "FROM", "MAINTAINER": return "\(keyword) isn't allowed as an ONBUILD trigger"
        default: return nil
        }
    }

    /// Runs `body`, turning a `ParseProblem` into a syntax error at this instruction's line.
    func located<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let problem as ParseProblem {
            throw DockerfileError.syntax(file: file, line: line, message: problem.message)
        }
    }
}
