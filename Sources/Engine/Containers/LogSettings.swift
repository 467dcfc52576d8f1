import BerthSystem

/// A container's logging (`--log-driver`, `--log-opt`): docker's `json-file` (rotated past
/// `max-size`, keeping `max-file` files), `local` (the same files, rotated by default at 20 MB
/// × 5, as docker's local driver), or `none` (nothing kept; `logs` cannot read it).
struct LogSettings: Equatable {
    enum Driver: String {
        case jsonFile = "json-file"
        case local
        case none
    }

    var driver: Driver
    /// Bytes past which the log is rotated; 0: never.
    var maxSize: Int64
    var maxFiles: Int

    /// Reads and checks `spec` with docker's words (an empty driver is `json-file`).
    init(_ spec: LogSpec) throws {
        let name = spec.driver.isEmpty ? Driver.jsonFile.rawValue : spec.driver
        guard let driver = Driver(rawValue: name) else {
            throw EngineError.invalidParameter("logger: no log driver named '\(name)' is registered")
        }
        self.driver = driver
        let options = spec.options
        let known: Set<String> = driver == .none ? [] : ["max-size", "max-file", "compress", "labels", "labels-regex", "env", "env-regex", "tag", "mode", "max-buffer-size"]
        for key in options.keys.sorted() where !known.contains(key) {
            throw EngineError.invalidParameter("unknown log opt '\(key)' for \(name) log driver")
        }
        if let compress = options["compress"], compress != "false" {
            throw EngineError.invalidParameter("compress is not supported by Berth's \(name) log driver (only compress=false)")
        }
        maxSize = driver == .local ? 20 * 1024 * 1024 : 0
        maxFiles = driver == .local ? 5 : 1
        if let text = options["max-size"], text != "-1" {
            guard let bytes = HumanSize.parseRAM(text), bytes > 0 else {
                throw EngineError.invalidParameter("invalid max-size '\(text)' for \(name) log driver")
            }
            maxSize = bytes
        }
        if let text = options["max-file"] {
            guard let files = Int(text), files >= 1 else {
                throw EngineError.invalidParameter("max-file must be a positive number, not \(text)")
            }
            if files > 1 && maxSize == 0 { throw EngineError.invalidParameter("max-file can only be used with max-size") }
            maxFiles = files
        }
    }

    /// The monitor's arguments for these settings.
    var monitorArguments: [String] {
        if driver == .none { return ["--no-log"] }
        guard maxSize > 0 else { return [] }
        return ["--log-max-size", "\(maxSize)", "--log-max-files", "\(maxFiles)"]
    }
}
