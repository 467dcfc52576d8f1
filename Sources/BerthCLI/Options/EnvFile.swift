/// `--env-file` parsing, as docker's `opts.ParseEnvFile`: one `KEY=value` per line, values kept
/// verbatim; blank lines and `#` comments skipped; a bare `KEY` takes the local environment's
/// value and is dropped when unset; keys must not contain whitespace.
enum EnvFile {
    /// Parses `text` (the file's content) using `lookup` for bare keys.
    static func parse(_ text: String, lookup: (String) -> String?) throws -> [String] {
        var result: [String] = []
        var content = Substring(text)
        if content.hasPrefix("\u{FEFF}") { content = content.dropFirst() }
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        for rawLine in content.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = rawLine
            if line.hasSuffix("\r") { line = line.dropLast() }
            let trimmed = line.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let key: Substring
            let value: Substring?
            if let equals = trimmed.firstIndex(of: "=") {
                key = trimmed[..<equals]
                value = trimmed[trimmed.index(after: equals)...]
            } else {
                key = trimmed
                value = nil
            }
            if key.isEmpty {
                throw CLIError.failed("poorly formatted environment: no variable name on line '\(trimmed)'")
            }
            if key.contains(where: { $0 == " " || $0 == "\t" }) {
                throw CLIError.failed("poorly formatted environment: variable '\(key)' contains whitespaces")
            }
            if let value {
                result.append("\(key)=\(value)")
            } else if let local = lookup(String(key)) {
                result.append("\(key)=\(local)")
            }
        }
        return result
    }
}
