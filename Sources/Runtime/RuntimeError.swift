import Glibc

/// Everything that can go wrong in the runtime, each case carrying what a user needs to act.
/// `description` reads as a sentence; `exitCode` is what the CLI should exit with.
public enum RuntimeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A system call failed; `operation` says what was attempted.
    case system(operation: String, errno: Int32)
    /// The container ID is empty or contains characters other than `[A-Za-z0-9_+.-]`.
    case invalidID(String)
    case containerExists(String)
    case containerNotFound(String)
    /// The container is in `status`, which does not allow `operation`.
    case wrongState(id: String, status: String, operation: String)
    /// `config.json` could not be read or decoded.
    case invalidBundle(path: String, reason: String)
    /// A value in the configuration is not understood (an unknown capability, rlimit, …).
    case invalidConfig(String)
    /// A feature the configuration asks for that this runtime does not implement.
    case unsupported(String)
    /// A mount destination is unsafe (a symlink where a directory must be, …).
    case unsafeMount(destination: String, reason: String)
    case executableNotFound(String)
    /// The command would run the runtime's own binary inside the container.
    case unsafeExecutable(String)
    case notExecutable(String)
    case unknownSignal(String)
    /// The container's init reported an error while being set up.
    case initFailed(String)
    /// The container's init died before reporting back.
    case initDied(String)
    /// A hook of `phase` exited with a non-zero status.
    case hookFailed(phase: String, path: String, status: Int32)

    /// A sentence saying what failed and, where it helps, what to change.
    public var description: String {
        switch self {
        case let .system(operation, code):
            return "\(operation): \(String(cString: strerror(code)))"
        case let .invalidID(id):
            return "invalid container ID \"\(id)\": use letters, digits, '_', '+', '-' and '.'"
        case let .containerExists(id):
            return "container with ID \"\(id)\" already exists"
        case let .containerNotFound(id):
            return "container \"\(id)\" does not exist"
        case let .wrongState(id, status, operation):
            return "cannot \(operation) container \"\(id)\": it is \(status)"
        case let .invalidBundle(path, reason):
            return "cannot load bundle config \(path): \(reason)"
        case let .invalidConfig(reason):
            return "invalid container configuration: \(reason)"
        case let .unsupported(feature):
            return "\(feature) is not supported by berth-runtime"
        case let .unsafeMount(destination, reason):
            return "refusing to mount on \(destination): \(reason)"
        case let .executableNotFound(name):
            return "exec: \"\(name)\": executable file not found in $PATH"
        case let .notExecutable(name):
            return "exec: \"\(name)\": permission denied"
        case let .unsafeExecutable(name):
            return "exec: \"\(name)\": refusing to run the runtime's own binary inside the container"
        case let .unknownSignal(name):
            return "unknown signal \"\(name)\""
        case let .initFailed(message):
            return "unable to start container process: \(message)"
        case let .initDied(reason):
            return "container init died during set-up: \(reason)"
        case let .hookFailed(phase, path, status):
            return "\(phase) hook \(path) failed with exit status \(status)"
        }
    }

    /// The exit status the CLI uses: 127 for a missing executable, 126 for one that cannot be
    /// executed (as shells and docker do), 1 otherwise.
    public var exitCode: Int32 {
        switch self {
        case .executableNotFound: return 127
        case .notExecutable: return 126
        case let .initFailed(message):
            if message.hasSuffix("executable file not found in $PATH") { return 127 }
            if message.hasPrefix("exec: ") && message.hasSuffix("permission denied") { return 126 }
            return 1
        default: return 1
        }
    }

    /// The error for the current `errno`.
    static func errno(_ operation: String) -> RuntimeError {
        .system(operation: operation, errno: Glibc.errno)
    }
}

/// Throws `RuntimeError.system` when a system call returned a negative value.
@discardableResult
func check(_ result: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    if result < 0 { throw RuntimeError.errno(operation()) }
    return result
}
