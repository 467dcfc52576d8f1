import BerthSystem
import Glibc

/// Byte sizes as docker reads and writes them (`github.com/docker/go-units`).
enum ByteSize {
    /// A size flag's value (`-m`, `--memory-swap`, `--shm-size`, …): nil when absent, `-1`
    /// (unlimited) as is, else `parseRAM`'s; a bad value is docker's invalid-flag error.
    static func flag(_ text: String?, _ flag: String, command: String) throws -> Int64? {
        guard let text else { return nil }
        if text == "-1" { return -1 }
        do { return try parseRAM(text) } catch let error as CLIError {
            throw CLIError.invalidFlag(command: command, value: text, flag: flag, reason: error.description)
        }
    }

    /// Parses a memory size like `RAMInBytes` (`HumanSize.parseRAM`); throws the text docker
    /// prints: `invalid size: 'lots'`.
    static func parseRAM(_ text: String) throws -> Int64 {
        guard let bytes = HumanSize.parseRAM(text) else { throw CLIError.failed("invalid size: '\(text)'") }
        return bytes
    }

    /// Formats a size with decimal units and three significant digits, like `HumanSize`:
    /// `4261550` → `4.26MB`, `999` → `999B`, `1000` → `1kB`.
    static func humanSize(_ bytes: Int64) -> String {
        HumanSize.decimal(bytes)
    }

    /// Formats a size with binary units and four significant digits, like `BytesSize`:
    /// `8183607296` → `7.622GiB`.
    static func binarySize(_ bytes: Int64) -> String {
        HumanSize.binary(bytes)
    }

    static func formatG(_ value: Double, precision: Int) -> String {
        HumanSize.formatG(value, precision: precision)
    }
}

/// `--cpus` as docker reads it: a decimal number of CPUs, converted exactly to `NanoCpus`.
enum CPUCount {
    /// Parses `0.5` → `500000000`. Throws docker's texts: `failed to parse x as a rational
    /// number` and `value is too precise`.
    static func parseNanoCPUs(_ text: String) throws -> Int64 {
        let notRational = CLIError.failed("failed to parse \(text) as a rational number")
        var body = Substring(text)
        var negative = false
        if body.first == "-" || body.first == "+" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty),
              whole.allSatisfy({ $0.isASCII && $0.isNumber }), fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw notRational
        }
        let significant = fraction.reversed().drop { $0 == "0" }.reversed()
        guard significant.count <= 9 else { throw CLIError.failed("value is too precise") }
        let padded = String(significant) + String(repeating: "0", count: 9 - significant.count)
        let wholeDigits = whole.drop { $0 == "0" }
        guard wholeDigits.count <= 9, let units = Int64(wholeDigits.isEmpty ? "0" : String(wholeDigits)),
              let nanos = Int64(padded) else { throw notRational }
        let value = units * 1_000_000_000 + nanos
        return negative ? -value : value
    }
}
