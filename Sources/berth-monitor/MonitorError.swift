import Glibc

/// Everything that stops the monitor before or while it starts a container or an exec. Each
/// description is one line, suitable for the `error <message>` report on fd 3.
enum MonitorError: Error, CustomStringConvertible {
    /// The command line does not follow the usage in docs/internals.md §2.
    case usage(String)
    /// A system call failed; `operation` says what the monitor was doing.
    case system(operation: String, errno: Int32)
    /// A Unix socket path does not fit in `sockaddr_un` (107 bytes); use a shorter `--dir`.
    case socketPathTooLong(String)
    /// The runtime could not be started at all (missing or not executable).
    case runtimeNotStarted(path: String, errno: Int32)
    /// The runtime ran and failed; `message` is what it printed on stderr.
    case runtimeFailed(command: String, status: String, message: String)
    /// The runtime reported success but left no usable pid file.
    case missingPidFile(path: String)
    /// The runtime reported success for a `--tty` process but never sent the pty master.
    case missingConsole(path: String)

    var description: String {
        switch self {
        case .usage(let message):
            return "\(message); usage: berth-monitor container --runtime PATH --runtime-root DIR --bundle B --id ID --dir D [--tty] [--stdin] [--stdin-once] [--in-process] [--hold-output N] | berth-monitor exec --runtime PATH --runtime-root DIR --id ID --process P.json --dir D [--tty] [--stdin] [--stdin-once]"
        case .system(let operation, let code):
            return "\(operation): \(Sys.errorString(code))"
        case .socketPathTooLong(let path):
            return "socket path \(path) is longer than 107 bytes; use a shorter --dir"
        case .runtimeNotStarted(let path, let code):
            return "cannot run the runtime \(path): \(Sys.errorString(code)); check --runtime"
        case .runtimeFailed(let command, let status, let message):
            let detail = message.isEmpty ? "no message on stderr" : message
            return "runtime \(command) \(status): \(detail)"
        case .missingPidFile(let path):
            return "the runtime succeeded but wrote no pid to \(path)"
        case .missingConsole(let path):
            return "the runtime succeeded but sent no pty master on \(path); does the process have terminal: true?"
        }
    }
}
