/// What the monitor supervises: a container's init (`runtime create`, then `runtime start`) or
/// one exec'd process (`runtime exec -d`); either runs once reported.
enum MonitorMode: String {
    case container
    case exec
}

/// The parsed command line (docs/internals.md §2).
struct MonitorOptions {
    var mode: MonitorMode
    var runtime: String
    var runtimeRoot: String
    var id: String
    var directory: String
    /// The OCI bundle (container mode only).
    var bundle: String
    /// The process.json for `runtime exec --process` (exec mode only).
    var process: String
    var tty = false
    var stdin = false
    var stdinOnce = false
    /// Run Berth's own runtime in forked children instead of executing `runtime` (container
    /// mode; `runtime` is still what an exec runs).
    var inProcess = false
    /// How many attach clients the daemon will connect; output is kept for them (container
    /// mode; an exec's monitor always keeps it for one).
    var holdOutput = 0
    /// No json-file log at all (`--log-driver none`).
    var noLog = false
    /// Rotate the log past this many bytes (0: never) keeping this many files.
    var logMaxSize: Int64 = 0
    var logMaxFiles = 1

    /// Parses `arguments` (without the program name). Every value must be non-empty and every
    /// path absolute: the monitor runs with `/` as its working directory.
    static func parse(_ arguments: [String]) throws -> MonitorOptions {
        guard let first = arguments.first, let mode = MonitorMode(rawValue: first) else {
            throw MonitorError.usage("the first argument must be 'container' or 'exec'")
        }
        var values: [String: String] = [:]
        var options = MonitorOptions(mode: mode, runtime: "", runtimeRoot: "", id: "", directory: "", bundle: "", process: "")
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--tty": options.tty = true
            case "--stdin": options.stdin = true
            case "--stdin-once": options.stdinOnce = true
            case "--in-process": options.inProcess = true
            case "--no-log": options.noLog = true
            case "--runtime", "--runtime-root", "--id", "--dir", "--bundle", "--process", "--hold-output", "--log-max-size", "--log-max-files":
                guard index + 1 < arguments.count, !arguments[index + 1].isEmpty else {
                    throw MonitorError.usage("\(argument) needs a value")
                }
                values[argument] = arguments[index + 1]
                index += 1
            default:
                throw MonitorError.usage("unknown argument \(argument)")
            }
            index += 1
        }
        func required(_ flag: String) throws -> String {
            guard let value = values[flag] else { throw MonitorError.usage("\(flag) is required") }
            return value
        }
        options.runtime = try required("--runtime")
        options.runtimeRoot = try required("--runtime-root")
        options.id = try required("--id")
        options.directory = try required("--dir")
        if let text = values["--log-max-size"] {
            guard let bytes = Int64(text), bytes > 0 else { throw MonitorError.usage("--log-max-size takes a positive number of bytes, got \(text)") }
            options.logMaxSize = bytes
        }
        if let text = values["--log-max-files"] {
            guard let files = Int(text), (1...1000).contains(files) else { throw MonitorError.usage("--log-max-files takes 1 to 1000, got \(text)") }
            options.logMaxFiles = files
        }
        if let count = values["--hold-output"] {
            guard let clients = Int(count), clients >= 0, clients <= 64 else {
                throw MonitorError.usage("--hold-output takes a number of clients from 0 to 64, got \(count)")
            }
            options.holdOutput = clients
        }
        switch mode {
        case .container:
            options.bundle = try required("--bundle")
            if values["--process"] != nil { throw MonitorError.usage("--process is only for exec") }
        case .exec:
            options.process = try required("--process")
            if values["--bundle"] != nil { throw MonitorError.usage("--bundle is only for container") }
            if values["--hold-output"] != nil || options.inProcess {
                throw MonitorError.usage("--hold-output and --in-process are only for container")
            }
        }
        for (flag, path) in [("--runtime", options.runtime), ("--runtime-root", options.runtimeRoot),
                             ("--dir", options.directory), ("--bundle", options.bundle), ("--process", options.process)]
            where !path.isEmpty && !path.hasPrefix("/") {
            throw MonitorError.usage("\(flag) must be an absolute path, got \(path)")
        }
        return options
    }
}
