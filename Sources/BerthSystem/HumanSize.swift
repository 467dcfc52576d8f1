import Glibc

/// Byte counts as docker prints them (`github.com/docker/go-units`), for the CLI's tables and
/// the daemon's progress messages alike.
public enum HumanSize {
    /// Decimal units and three significant digits, like `HumanSize`: `4261550` → `4.26MB`,
    /// `999` → `999B`, `1000` → `1kB`.
    public static func decimal(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
        var size = Double(bytes)
        var index = 0
        while size >= 1000 && index < units.count - 1 {
            size /= 1000
            index += 1
        }
        return formatG(size, precision: 3) + units[index]
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
