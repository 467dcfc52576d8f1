@testable import Builder

/// The error `Dockerfile(parsing:)` throws for `text`, or nil when it parses.
func parseError(_ text: String, fileName: String = "Dockerfile") -> DockerfileError? {
    do {
        _ = try Dockerfile(parsing: text, fileName: fileName)
        return nil
    } catch let error as DockerfileError {
        return error
    } catch {
        return nil
    }
}

/// The error `body` throws, or nil.
func thrownError(_ body: () throws -> Void) -> DockerfileError? {
    do {
        try body()
        return nil
    } catch let error as DockerfileError {
        return error
    } catch {
        return nil
    }
}

/// The instructions of the first stage of `FROM scratch` followed by `text`.
func stageInstructions(_ text: String) throws -> [Instruction] {
    try Dockerfile(parsing: "FROM scratch\n" + text).stages[0].instructions
}

/// The single instruction after `FROM scratch`.
func onlyInstruction(_ text: String) throws -> Instruction? {
    let instructions = try stageInstructions(text)
    return instructions.count == 1 ? instructions[0] : nil
}

/// The syntax message of a parse failure, or nil when `text` parses or fails otherwise.
func syntaxMessage(_ text: String) -> String? {
    guard case .syntax(_, _, let message) = parseError(text) else { return nil }
    return message
}
