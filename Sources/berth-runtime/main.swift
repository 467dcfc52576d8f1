// berth-runtime: Berth's OCI runtime, a drop-in for the subset of runc's command line that
// container engines use (create, start, state, kill, delete, run, exec).
import ArgumentParser
import BerthSystem
import FoundationEssentials
import Glibc
import OCI
import Runtime

/// Options every command accepts before or after its name, as runc's global flags.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Directory for container state.")
    var root: String = "/run/berth-runtime"
    @Option(help: "Accepted for runc compatibility; errors go to stderr.")
    var log: String?
    @Option(name: .customLong("log-format"), help: "Accepted for runc compatibility.")
    var logFormat: String?
    @Flag(name: .customLong("systemd-cgroup"), help: "Accepted for runc compatibility; cgroupsPath is always a path.")
    var systemdCgroup = false
    @Flag(help: "Accepted for runc compatibility.")
    var debug = false

    var runtime: ContainerRuntime { ContainerRuntime(root: root) }
}

/// Runs `body`, turning a RuntimeError into a message on stderr (and in the `--log` file, in
/// runc's text or JSON format, where engines look for it) and its exit code.
func perform(_ command: String, _ global: GlobalOptions, _ body: () throws -> Int32) throws {
    let code: Int32
    do {
        code = try body()
    } catch let error as RuntimeError {
        let message = "berth-runtime \(command): \(error)"
        ErrorLog.write(message + "\n", fd: 2)
        if let log = global.log { ErrorLog.append(message, to: log, json: global.logFormat == "json") }
        throw ExitCode(error.exitCode)
    }
    if code != 0 { throw ExitCode(code) }
}

/// Error output without Foundation.
enum ErrorLog {
    static func write(_ text: String, fd: Int32) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    /// Appends one log line: `time="…" level=error msg="…"` or the JSON equivalent.
    static func append(_ message: String, to path: String, json: Bool) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let time = timestamp()
        let quoted = quote(message)
        write(json ? "{\"level\":\"error\",\"msg\":\(quoted),\"time\":\"\(time)\"}\n"
                   : "time=\"\(time)\" level=error msg=\(quoted)\n", fd: fd)
    }

    /// RFC 3339 UTC time, e.g. `2026-11-28T19:20:40Z`.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// A JSON string literal (also valid in runc's text format).
    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}

struct BerthRuntime: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berth-runtime",
        abstract: "Berth's OCI runtime (runc-compatible subset).",
        version: "berth-runtime 0.1.0 (OCI runtime-spec 1.0.2)",
        subcommands: [Create.self, Start.self, State.self, Kill.self, Delete.self, Run.self, Exec.self, Pause.self, Resume.self, Update.self])

    @OptionGroup var global: GlobalOptions
}

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container that waits for start.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .long], help: "Path to the bundle directory.") var bundle: String = "."
    @Option(name: .customLong("pid-file"), help: "Write the init pid to this file.") var pidFile: String?
    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master.") var consoleSocket: String?
    @Flag(name: .customLong("no-pivot"), help: "Accepted for runc compatibility.") var noPivot = false
    @Flag(name: .customLong("no-new-keyring"), help: "Keep the caller's session keyring instead of a new one.") var noNewKeyring = false
    @Option(name: .customLong("preserve-fds"), help: "Pass descriptors 3 to 3+N-1 to the container.") var preserveFDs = 0
    @Argument var id: String

    func run() throws {
        try perform("create", global) {
            try global.runtime.create(id: id, bundlePath: bundle, consoleSocket: consoleSocket, pidFile: pidFile, preserveFDs: preserveFDs,
                                      newKeyring: !noNewKeyring)
            return 0
        }
    }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a created container.")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String

    func run() throws {
        try perform("start", global) { try global.runtime.start(id: id); return 0 }
    }
}

struct State: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Print the state of a container as JSON.")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String

    func run() throws {
        try perform("state", global) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(try global.runtime.state(id: id))
            print(String(decoding: data, as: UTF8.self))
            return 0
        }
    }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal to a container's init.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .long], help: "Signal every process in the container's cgroup.") var all = false
    @Argument var id: String
    @Argument var signal: String = "TERM"

    func run() throws {
        try perform("kill", global) {
            try global.runtime.kill(id: id, signal: try Signals.parse(signal), all: all)
            return 0
        }
    }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove a container's state and cgroup.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .long], help: "Kill the container first if it is running.") var force = false
    @Argument var id: String

    func run() throws {
        try perform("delete", global) { try global.runtime.delete(id: id, force: force); return 0 }
    }
}

struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Change the resource limits of a container.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .long], help: "Path to a JSON file of linux.resources, or - for standard input.") var resources: String
    @Argument var id: String

    func run() throws {
        try perform("update", global) {
            let bytes = resources == "-" ? try FileSystem.readAll(0) : try FileSystem.readFile(resources)
            let limits: RuntimeSpec.Resources
            do {
                limits = try JSONDecoder().decode(RuntimeSpec.Resources.self, from: Data(bytes))
            } catch {
                throw RuntimeError.invalidConfig("--resources: \(error)")
            }
            try global.runtime.update(id: id, resources: limits)
            return 0
        }
    }
}

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Freeze every process of a running container.")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String

    func run() throws {
        try perform("pause", global) { try global.runtime.pause(id: id); return 0 }
    }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Thaw a paused container.")
    @OptionGroup var global: GlobalOptions
    @Argument var id: String

    func run() throws {
        try perform("resume", global) { try global.runtime.resume(id: id); return 0 }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Create and start a container.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .long], help: "Path to the bundle directory.") var bundle: String = "."
    @Option(name: .customLong("pid-file"), help: "Write the init pid to this file.") var pidFile: String?
    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master.") var consoleSocket: String?
    @Flag(name: [.short, .long], help: "Return once started instead of waiting.") var detach = false
    @Flag(name: .customLong("no-pivot"), help: "Accepted for runc compatibility.") var noPivot = false
    @Flag(name: .customLong("no-new-keyring"), help: "Keep the caller's session keyring instead of a new one.") var noNewKeyring = false
    @Flag(name: .customLong("keep"), help: "Accepted for runc compatibility.") var keep = false
    @Option(name: .customLong("preserve-fds"), help: "Pass descriptors 3 to 3+N-1 to the container.") var preserveFDs = 0
    @Argument var id: String

    func run() throws {
        try perform("run", global) {
            try global.runtime.run(id: id, bundlePath: bundle, consoleSocket: consoleSocket, pidFile: pidFile,
                                   preserveFDs: preserveFDs, newKeyring: !noNewKeyring, detach: detach)
        }
    }
}

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run a process in a running container.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .long], help: "process.json to run (runtime-spec process).") var process: String?
    @Flag(name: [.short, .long], help: "Allocate a pseudo-terminal.") var tty = false
    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master.") var consoleSocket: String?
    @Option(name: .customLong("pid-file"), help: "Write the process's pid to this file.") var pidFile: String?
    @Flag(name: [.short, .long], help: "Return once the process runs instead of waiting.") var detach = false
    @Option(name: .customLong("cwd"), help: "Working directory inside the container.") var cwd: String?
    @Option(name: [.short, .long], help: "Extra environment variable (KEY=VALUE).") var env: [String] = []
    @Option(name: [.short, .long], help: "User to run as: UID[:GID].") var user: String?
    @Option(name: .customLong("preserve-fds"), help: "Pass descriptors 3 to 3+N-1 to the process.") var preserveFDs = 0
    @Argument var id: String
    @Argument(parsing: .captureForPassthrough) var args: [String] = []

    func run() throws {
        try perform("exec", global) {
            let runtime = global.runtime
            var spec: RuntimeSpec.Process
            if let process {
                spec = try Bundle.loadProcess(path: process)
            } else {
                guard !args.isEmpty else { throw RuntimeError.invalidConfig("exec needs --process or a command") }
                spec = try runtime.bundleProcess(id: id, args: args, terminal: tty)
            }
            if tty { spec.terminal = true }
            if let cwd { spec.cwd = cwd }
            if let user {
                let parts = user.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count <= 2, let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                    throw RuntimeError.invalidConfig("--user \"\(user)\" must be UID or UID:GID (numeric)")
                }
                spec.user.uid = uid
                spec.user.gid = parts.count == 2 ? UInt32(parts[1]) ?? 0 : 0
            }
            if !env.isEmpty { spec.env = (spec.env ?? []) + env }
            return try runtime.exec(id: id, process: spec, consoleSocket: consoleSocket, pidFile: pidFile,
                                    preserveFDs: preserveFDs, detach: detach)
        }
    }
}

BerthRuntime.main()
