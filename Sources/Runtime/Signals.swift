import Glibc

/// Signal names and numbers as `kill` accepts them (`TERM`, `SIGTERM`, `15`).
public enum Signals {
    static let numbers: [String: Int32] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7,
        "FPE": 8, "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14,
        "TERM": 15, "STKFLT": 16, "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21,
        "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28,
        "IO": 29, "POLL": 29, "PWR": 30, "SYS": 31,
    ]

    /// The signal number for a name or number; `unknownSignal` otherwise.
    public static func parse(_ text: String) throws -> Int32 {
        if let number = Int32(text) {
            guard number > 0 && number <= 64 else { throw RuntimeError.unknownSignal(text) }
            return number
        }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        guard let number = numbers[name] else { throw RuntimeError.unknownSignal(text) }
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
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }
}
