import Glibc

/// Byte counts as docker prints them (`github.com/docker/go-units`), for the CLI's tables and
/// the daemon's progress messages alike.
public enum HumanSize {
    /// Decimal units and three significant digits, like `HumanSize`: `4261550` → `4.26MB`,
    /// `999` → `999B`, `1000` → `1kB`.
    /// Parses a memory size like `RAMInBytes`: a number with an optional binary unit
    /// `b k m g t p` (case-insensitive, optional `i` and `b`: `64m`, `1g`, `512KiB`, `100`).
    /// Nil when it is not one.
    public static func parseRAM(_ text: String) -> Int64? {
        var scalars = Array(text.unicodeScalars)
        var digitsEnd = 0
        while digitsEnd < scalars.count, ("0"..."9").contains(scalars[digitsEnd]) || scalars[digitsEnd] == "." {
            digitsEnd += 1
        }
        let number = String(String.UnicodeScalarView(scalars[0..<digitsEnd]))
        guard !number.isEmpty, number.first != ".", number.last != ".",
              number.filter({ $0 == "." }).count <= 1, let value = Double(number) else { return nil }
        scalars.removeSubrange(0..<digitsEnd)
        if scalars.first == " " { scalars.removeFirst() }
        var multiplier: Double = 1
        if let unit = scalars.first, let power = "kmgtp".firstIndex(of: Character(String(unit).lowercased())) {
            multiplier = pow(1024, Double("kmgtp".distance(from: "kmgtp".startIndex, to: power) + 1))
            scalars.removeFirst()
        }
        if let i = scalars.first, i == "i" || i == "I" { scalars.removeFirst() }
        if let b = scalars.first, b == "b" || b == "B" { scalars.removeFirst() }
        guard scalars.isEmpty else { return nil }
        let bytes = value * multiplier
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }

    public static func decimal(_ bytes: Int64) -> String {
        scaled(bytes, base: 1000, units: ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"], precision: 3)
    }

    /// Binary units and four significant digits, like `BytesSize`: `8183607296` → `7.622GiB`.
    public static func binary(_ bytes: Int64) -> String {
        scaled(bytes, base: 1024, units: ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"], precision: 4)
    }

    /// `bytes` divided by `base` until below it (or out of units), with the unit reached.
    private static func scaled(_ bytes: Int64, base: Double, units: [String], precision: Int) -> String {
        var size = Double(bytes)
        var index = 0
        while size >= base && index < units.count - 1 {
            size /= base
            index += 1
        }
        return formatG(size, precision: precision) + units[index]
    }

    /// `%.{precision}g`, as Go's `fmt` and C's `printf` both print it.
    public static func formatG(_ value: Double, precision: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([value]) { args in
            buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, 64, "%.\(precision)g", args) }
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
