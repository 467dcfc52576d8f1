import BerthSystem

/// How a supervised process ended, decoded from a `waitpid` status.
struct ExitStatus: Equatable {
    /// The exit status, or 128 + signal when the process was killed by a signal (docker's rule).
    var code: Int32
    /// The signal that killed the process, nil when it exited.
    var signal: Int32?

    /// Decodes a raw wait status (the W* macros are not available in Swift).
    init(waitStatus status: Int32) {
        code = WaitStatus.exitCode(status)
        signal = WaitStatus.terminatingSignal(status)
    }

    init(code: Int32, signal: Int32?) {
        self.code = code
        self.signal = signal
    }
}

/// `D/exit.json`: `{"exitCode":N,"finishedAt":"<RFC3339Nano>","signal":S|null}`, the monitor's
/// verdict that the daemon reads after a restart. Written atomically, so its presence means
/// the whole record is there; not durably, as the daemon needs it across its own restarts, not
/// across a power loss (which ends the container too).
enum ExitRecord {
    static func json(_ status: ExitStatus, finishedAt: String) -> String {
        let signal = status.signal.map { String($0) } ?? "null"
        return "{\"exitCode\":\(status.code),\"finishedAt\":\"\(finishedAt)\",\"signal\":\(signal)}\n"
    }

    static func write(_ status: ExitStatus, finishedAt: String, directory: String) throws {
        try FileSystem.writeAtomically(directory + "/exit.json", bytes: Array(json(status, finishedAt: finishedAt).utf8),
                                       durable: false)
    }
}
