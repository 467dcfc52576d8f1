/// Signal names and wait(2) statuses, decoded one way for the runtime, the monitor and the
/// engine (the W* macros and `sys_signame` are not available in Swift).
public enum SignalName {
    private static let numbers: [String: Int32] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8,
        "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
        "STKFLT": 16, "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22,
        "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29,
        "POLL": 29, "PWR": 30, "SYS": 31,
    ]

    /// The number of a signal given as docker and `kill` accept it (`HUP`, `sighup`, `1`,
    /// `RTMIN+3`); nil for anything else, including numbers outside 1-64.
    public static func number(_ text: String) -> Int32? {
        let upper = text.uppercased()
        if let n = Int32(upper) { return n > 0 && n <= 64 ? n : nil }
        let bare = upper.hasPrefix("SIG") ? String(upper.dropFirst(3)) : upper
        if let n = numbers[bare] { return n }
        if bare.hasPrefix("RTMIN+"), let k = Int32(bare.dropFirst(6)), k >= 0, k <= 30 { return 34 + k }
        return nil
    }
}

/// A raw wait(2) status.
public enum WaitStatus {
    /// The signal that killed the process, nil when it exited.
    public static func terminatingSignal(_ status: Int32) -> Int32? {
        let signal = status & 0x7f
        return signal == 0 ? nil : signal
    }

    /// The exit status, or 128 + signal when killed by a signal (the shell's and docker's rule).
    public static func exitCode(_ status: Int32) -> Int32 {
        terminatingSignal(status).map { 128 + $0 } ?? (status >> 8) & 0xff
    }
}
