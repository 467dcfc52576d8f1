import Glibc

/// Signal names as docker accepts them (`HUP`, `SIGHUP`, `1`).
public enum Signals {
    static let numbers: [String: Int32] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8,
        "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
        "STKFLT": 16, "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22,
        "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29,
        "POLL": 29, "PWR": 30, "SYS": 31,
    ]

    /// The signal's number, for names with or without `SIG` and for numbers 1-64.
    public static func number(_ signal: String) throws -> Int32 {
        let upper = signal.uppercased()
        if let n = Int32(upper), n > 0, n <= 64 { return n }
        let bare = upper.hasPrefix("SIG") ? String(upper.dropFirst(3)) : upper
        if let n = numbers[bare] { return n }
        if bare.hasPrefix("RTMIN+"), let k = Int32(bare.dropFirst(6)), k >= 0, k <= 30 { return 34 + k }
        throw EngineError.invalidParameter("Invalid signal: \(signal)")
    }

    /// The number as a string, which every OCI runtime accepts.
    public static func normalize(_ signal: String) throws -> String {
        String(try number(signal))
    }
}
