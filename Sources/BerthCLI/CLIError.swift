import Glibc

/// Everything that can make a `berth` command fail, with the text docker prints for it and the
/// exit status docker uses (1 for daemon and I/O errors, 125 for bad flags and engine failures in
/// `run`/`create`, 126/127 when the container's command cannot be run).
enum CLIError: Error, CustomStringConvertible {
    /// The daemon's socket is missing or refuses connections.
    case daemonUnreachable(host: String, reason: String)
    /// The daemon answered with an error status and `{"message": …}`.
    case daemon(status: Int, message: String)
    /// An error reported inside a JSON progress stream (`{"error": …}`) after a 200.
    case stream(message: String)
    /// A flag value failed validation: `invalid argument "lots" for "-m, --memory" flag: …`.
    case invalidFlag(command: String, value: String, flag: String, reason: String)
    /// The command line is wrong in a way docker reports with a usage hint.
    case usage(command: String, message: String)
    /// `run`/`create` failed inside the engine; docker prefixes the command and exits 125/126/127.
    case runFailed(command: String, message: String, status: Int32)
    /// The daemon sent something that is not the HTTP or framing the API promises.
    case protocolViolation(String)
    /// A local system call failed (reading a file, writing the output).
    case system(operation: String, errno: Int32)
    /// A plain failure with docker's wording, exit status 1.
    case failed(String)

    /// The process exit status docker uses for this failure.
    var exitStatus: Int32 {
        switch self {
        case .invalidFlag, .usage: return 125
        case .runFailed(_, _, let status): return status
        default: return 1
        }
    }

    /// True when the daemon could not be reached at all (reported as is, exit status 1).
    var isConnectionFailure: Bool {
        if case .daemonUnreachable = self { return true }
        return false
    }

    var description: String {
        switch self {
        case .daemonUnreachable(let host, let reason):
            return "Cannot connect to the Berth daemon at \(host) (\(reason)). Is berthd running? Start it with: berthd &"
        case .daemon(_, let message):
            return "Error response from daemon: \(message)"
        case .stream(let message):
            return message
        case .invalidFlag(let command, let value, let flag, let reason):
            return "invalid argument \"\(value)\" for \"\(flag)\" flag: \(reason)\nSee 'berth \(command) --help'."
        case .usage(let command, let message):
            return "\(message)\nSee 'berth \(command) --help'."
        case .runFailed(let command, let message, _):
            return "berth: \(message)\n\nRun 'berth \(command) --help' for more information"
        case .protocolViolation(let what):
            return "protocol error talking to the daemon: \(what)"
        case .system(let operation, let code):
            return "\(operation): \(String(cString: strerror(code)))"
        case .failed(let message):
            return message
        }
    }
}
