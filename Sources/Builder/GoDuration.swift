/// Go's `time.ParseDuration`, as docker reads HEALTHCHECK durations: a signed sequence of
/// decimal numbers with units, such as "300ms", "1.5h" or "2h45m"; units are ns, us (or µs),
/// ms, s, m and h.
enum GoDuration {
    /// The duration `text` denotes. Throws with Go's messages for malformed text, an unknown or
    /// missing unit, or a value beyond about 292 years.
    static func parse(_ text: String) throws -> Duration {
        let invalid = ParseProblem("time: invalid duration \(goQuoted(text))")
        var scalars = Array(text.unicodeScalars)[...]
        var negative = false
        if let sign = scalars.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            scalars = scalars.dropFirst()
        }
        if scalars.elementsEqual(["0"]) { return .zero }
        guard !scalars.isEmpty else { throw invalid }
        let limit: UInt64 = 1 << 63
        var total: UInt64 = 0
        while !scalars.isEmpty {
            guard let first = scalars.first, first == "." || first.isASCIIDigit else { throw invalid }
            var whole: UInt64 = 0
            let wholeDigits = scalars.prefix(while: \.isASCIIDigit)
            for digit in wholeDigits {
                guard whole <= (limit - 1) / 10 else { throw invalid }
                whole = whole * 10 + UInt64(digit.value - 0x30)
            }
            scalars = scalars.dropFirst(wholeDigits.count)
            var fraction: UInt64 = 0
            var scale: Double = 1
            var fractionDigits = 0
            if scalars.first == "." {
                scalars = scalars.dropFirst()
                let digits = scalars.prefix(while: \.isASCIIDigit)
                fractionDigits = digits.count
                for digit in digits where fraction <= (limit - 1) / 10 {
                    fraction = fraction * 10 + UInt64(digit.value - 0x30)
                    scale *= 10
                }
                scalars = scalars.dropFirst(digits.count)
            }
            guard !wholeDigits.isEmpty || fractionDigits > 0 else { throw invalid }
            let unitText = scalars.prefix(while: { $0 != "." && !$0.isASCIIDigit })
            guard !unitText.isEmpty else { throw ParseProblem("time: missing unit in duration \(goQuoted(text))") }
            scalars = scalars.dropFirst(unitText.count)
            let unitName = String(scalars: unitText)
            guard let unit = units[unitName] else {
                throw ParseProblem("time: unknown unit \(goQuoted(unitName)) in duration \(goQuoted(text))")
            }
            guard whole <= limit / unit else { throw invalid }
            var value = whole * unit
            if fraction > 0 {
                let extra = Double(fraction) * (Double(unit) / scale)
                guard extra < Double(limit) else { throw invalid }
                let (sum, overflow) = value.addingReportingOverflow(UInt64(extra))
                guard !overflow, sum <= limit else { throw invalid }
                value = sum
            }
            let (sum, overflow) = total.addingReportingOverflow(value)
            guard !overflow, sum <= limit else { throw invalid }
            total = sum
        }
        if negative {
            return total == limit ? .nanoseconds(Int64.min) : .nanoseconds(-Int64(total))
        }
        guard total < limit else { throw invalid }
        return .nanoseconds(Int64(total))
    }

    private static let units: [String: UInt64] = [
        "ns": 1, "us": 1_000, "\u{00B5}s": 1_000, "\u{03BC}s": 1_000, "ms": 1_000_000,
        "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
    ]
}
