import Glibc

/// Wall-clock instants as docker prints them: RFC 3339 with nanoseconds in UTC
/// (`2026-11-28T19:20:01.123456789Z`).
public struct Timestamp: Sendable, Equatable, Comparable, Codable {
    /// Seconds since the Unix epoch.
    public var seconds: Int64
    /// Nanoseconds within the second.
    public var nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// The current time.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
    }

    /// docker's "zero time" for instants that never happened.
    public static let zero = Timestamp(seconds: -62135596800)

    /// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`; the zero time prints as `0001-01-01T00:00:00Z`.
    public var rfc3339Nano: String {
        if self == .zero { return "0001-01-01T00:00:00Z" }
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let ns = String(nanoseconds)
        let fraction = String(repeating: "0", count: max(0, 9 - ns.count)) + ns
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(fraction)Z"
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, whole seconds (docker's `CreatedAt` of volumes).
    public var rfc3339: String {
        if self == .zero { return "0001-01-01T00:00:00Z" }
        return String(rfc3339Nano.prefix(19)) + "Z"
    }

    /// Parses what `rfc3339Nano` prints (and RFC 3339 with fewer fraction digits or none).
    public init?(rfc3339 string: String) {
        if string == "0001-01-01T00:00:00Z" { self = .zero; return }
        let bytes = Array(string.utf8)
        guard bytes.count >= 20, bytes[4] == 0x2d, bytes[7] == 0x2d, bytes[10] == 0x54, bytes.last == 0x5a else { return nil }
        func number(_ range: Range<Int>) -> Int32? { Int32(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        var nanos: Int64 = 0
        if bytes[19] == 0x2e {
            let digits = bytes[20..<(bytes.count - 1)]
            guard digits.count <= 9, let value = Int64(String(decoding: digits, as: UTF8.self)) else { return nil }
            nanos = value
            for _ in digits.count..<9 { nanos *= 10 }
        }
        self.seconds = Int64(timegm(&parts))
        self.nanoseconds = nanos
    }

    /// Nanoseconds from `earlier` to this instant; zero when `earlier` is not before it.
    public func nanosecondsSince(_ earlier: Timestamp) -> UInt64 {
        let difference = (seconds - earlier.seconds) * 1_000_000_000 + (nanoseconds - earlier.nanoseconds)
        return difference > 0 ? UInt64(difference) : 0
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let t = Timestamp(rfc3339: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time: \(s)"))
        }
        self = t
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rfc3339Nano)
    }
}
