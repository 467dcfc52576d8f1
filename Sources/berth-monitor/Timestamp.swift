import Glibc

/// Wall-clock instants in RFC 3339 with nanoseconds, UTC ("2026-11-28T19:20:01.123456789Z"),
/// always with nine fractional digits so entries have a fixed width and sort as text. Go's
/// `time.Parse(time.RFC3339Nano, …)`, and so docker, reads this form.
enum Timestamp {
    /// The current time, appended to `out` as ASCII.
    static func appendNow(to out: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        append(seconds: now.tv_sec, nanoseconds: now.tv_nsec, to: &out)
    }

    /// The current time as a string.
    static func now() -> String {
        var out: [UInt8] = []
        appendNow(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `seconds` since the Unix epoch plus `nanoseconds` (0..<1e9), appended to `out`.
    static func append(seconds: Int, nanoseconds: Int, to out: inout [UInt8]) {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        appendDigits(Int(parts.tm_year) + 1900, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mon) + 1, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mday), width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(Int(parts.tm_hour), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_min), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_sec), width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(nanoseconds, width: 9, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// `value` (non-negative) in decimal, left-padded with zeros to `width` digits.
    private static func appendDigits(_ value: Int, width: Int, to out: inout [UInt8]) {
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: width)
        var rest = value
        var index = width - 1
        while index >= 0 && rest > 0 {
            digits[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            index -= 1
        }
        out.append(contentsOf: digits)
    }
}
