import BerthSystem

/// Signal names as docker accepts them (`HUP`, `SIGHUP`, `1`, `RTMIN+3`).
public enum Signals {
    /// The signal's number; `invalidParameter` naming the text when it is no signal.
    public static func number(_ signal: String) throws -> Int32 {
        guard let number = SignalName.number(signal) else { throw EngineError.invalidParameter("Invalid signal: \(signal)") }
        return number
    }

    /// The number as a string, which every OCI runtime accepts.
    public static func normalize(_ signal: String) throws -> String {
        String(try number(signal))
    }
}
