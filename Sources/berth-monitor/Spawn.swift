import CBerthSys
import Glibc

/// Starting the runtime as a child process.
enum Spawn {
    /// Starts `arguments[0]` (a path, not searched in PATH) with the monitor's environment and
    /// `stdin`/`stdout`/`stderr` as its fds 0–2. Every other descriptor of the monitor is
    /// close-on-exec, so the child inherits nothing else. The child starts with an empty signal
    /// mask and every signal at its default disposition, undoing what the monitor set for
    /// itself, so the runtime and the container never inherit an ignored or blocked signal.
    static func run(_ arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32) throws -> pid_t {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        let pid = berth_spawn(arguments[0], argv, environ, stdin, stdout, stderr)
        guard pid > 0 else { throw MonitorError.runtimeNotStarted(path: arguments[0], errno: errno) }
        return pid
    }
}
