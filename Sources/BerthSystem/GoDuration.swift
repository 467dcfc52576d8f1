/// Durations written as Go's `time.ParseDuration` reads them (`300ms`, `1.5s`, `1m30s`,
/// `2h`), the form docker takes for `--health-interval`, `HEALTHCHECK --timeout=` and the like.
public enum GoDuration {
    /// Nanoseconds of `text`; nil when it is not a duration (a bare number other than `0` has
    /// no unit and is not one, as in Go).
    public static func nanoseconds(_ text: String) -> Int64? {
        var rest = Substring(text)
        var negative = false
        if rest.first == "-" || rest.first == "+" {
            negative = rest.first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isNumber || $0 == ".") }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        guard total < 9.2e18 else { return nil }
        return Int64(negative ? -total : total)
    }

    /// `nanoseconds` as Go's `Duration.String` prints it (`500ms`, `1.5s`, `1m30s`, `2h0m0s`).
    public static func format(nanoseconds: UInt64) -> String {
        if nanoseconds == 0 { return "0s" }
        func trimmed(_ value: Double) -> String {
            var text = String(value)
            if text.hasSuffix(".0") { text.removeLast(2) }
            return text
        }
        if nanoseconds < 1_000 { return "\(nanoseconds)ns" }
        if nanoseconds < 1_000_000 { return trimmed(Double(nanoseconds) / 1e3) + "µs" }
        if nanoseconds < 1_000_000_000 { return trimmed(Double(nanoseconds) / 1e6) + "ms" }
        let hours = nanoseconds / 3_600_000_000_000
        let minutes = nanoseconds / 60_000_000_000 % 60
        let seconds = trimmed(Double(nanoseconds % 60_000_000_000) / 1e9) + "s"
        if hours > 0 { return "\(hours)h\(minutes)m" + seconds }
        if minutes > 0 { return "\(minutes)m" + seconds }
        return seconds
    }
}
