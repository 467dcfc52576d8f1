import BerthSystem
import Glibc

/// Signal names and numbers as `kill` accepts them (`TERM`, `SIGTERM`, `15`).
public enum Signals {
    /// The signal number for a name or number; `unknownSignal` otherwise.
    public static func parse(_ text: String) throws -> Int32 {
        guard let number = SignalName.number(text) else { throw RuntimeError.unknownSignal(text) }
        return number
    }
}

/// The pid signals are forwarded to while the runtime waits in the foreground.
nonisolated(unsafe) private var forwardingTarget: pid_t = 0

/// Forwarding of the signals a user sends to a foreground `run` or `exec` on to the container
/// process, so Ctrl-C and `kill` reach it as they would reach runc's.
enum SignalForwarding {
    static let forwarded: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH]

    static func start(to pid: pid_t) {
        forwardingTarget = pid
        for signal in forwarded {
            _ = Glibc.signal(signal) { received in
                if forwardingTarget > 0 { _ = kill(forwardingTarget, received) }
            }
        }
    }

    /// Waits for `pid` and returns its exit status, 128+N when killed by signal N.
    static func wait(for pid: pid_t) throws -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw RuntimeError.errno("wait for process \(pid)") }
        }
        return WaitStatus.exitCode(status)
    }
}
