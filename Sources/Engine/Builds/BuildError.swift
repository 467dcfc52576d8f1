/// Why a build stopped, in docker's words where docker has them.
public enum BuildError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The Dockerfile is missing from the context, or its path leaves it.
    case noDockerfile(String)
    /// The Dockerfile could not be parsed or one of its instructions is malformed.
    case dockerfile(String)
    /// A RUN step's command exited with a non-zero status.
    case commandFailed(command: String, status: Int32)
    /// A COPY or ADD source that is not in the build context (or stage) it names.
    case sourceNotFound(instruction: String, path: String)
    /// `--target` names no stage.
    case noSuchTarget(String)
    /// An instruction is valid Dockerfile but not available here.
    case unsupported(String)

    public var description: String {
        switch self {
        case .noDockerfile(let path): return "Cannot locate specified Dockerfile: \(path)"
        case .dockerfile(let message): return message
        case .commandFailed(let command, let status): return "The command '\(command)' returned a non-zero code: \(status)"
        case .sourceNotFound(let instruction, let path):
            return "\(instruction) failed: file not found in build context or excluded by .dockerignore: stat \(path): file does not exist"
        case .noSuchTarget(let target): return "failed to reach build target \(target) in Dockerfile"
        case .unsupported(let what): return what
        }
    }
}
