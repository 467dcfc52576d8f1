import ArgumentParser
import Glibc

/// `berth registry …`: runs Berth's registry server. The server is its own executable,
/// `berth-registry`, so that `berth` links no server or TLS code; these commands replace the
/// `berth` process with it (`exec`), passing the arguments through.
struct RegistryGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry", abstract: "Run an OCI registry (berth-registry)",
        subcommands: [RegistryServe.self, RegistryGC.self, RegistryReplication.self])
}

/// `berth registry serve [--addr H:P] [--root DIR] …`: `berth-registry serve …`.
struct RegistryServe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve an OCI registry (see berth-registry serve --help)")

    @Argument(parsing: .captureForPassthrough, help: "Options of berth-registry serve")
    var arguments: [String] = []

    func run() throws { try RegistryLauncher.exec(["serve"] + arguments) }
}

/// `berth registry gc --root DIR …`: `berth-registry gc …`.
struct RegistryGC: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gc", abstract: "Remove unreferenced registry blobs (see berth-registry gc --help)")

    @Argument(parsing: .captureForPassthrough, help: "Options of berth-registry gc")
    var arguments: [String] = []

    func run() throws { try RegistryLauncher.exec(["gc"] + arguments) }
}

/// `berth registry replication status|rewind|resync …`: `berth-registry replication …`.
struct RegistryReplication: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replication",
                                                    abstract: "Show and steer replication to other registries (see berth-registry replication --help)")

    @Argument(parsing: .captureForPassthrough, help: "Subcommand and options of berth-registry replication")
    var arguments: [String] = []

    func run() throws { try RegistryLauncher.exec(["replication"] + arguments) }
}

/// `berth replicate --source URL --to NAME=URL …`: `berth-registry replicate …`, the stand-alone
/// forwarder beside any registry that sends notifications.
struct Replicate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replicate",
                                                    abstract: "Replicate a registry that sends notifications to others (see berth-registry replicate --help)")

    @Argument(parsing: .captureForPassthrough, help: "Options of berth-registry replicate")
    var arguments: [String] = []

    func run() throws { try RegistryLauncher.exec(["replicate"] + arguments) }
}

/// Finds and executes `berth-registry`: beside the running `berth` first, then in `PATH`.
enum RegistryLauncher {
    static let name = "berth-registry"

    /// The path to run: `<directory of berth>/berth-registry` when executable, else the first
    /// executable `berth-registry` in `searchPath` (colon-separated), else nil.
    static func locate(besides executableDirectory: String?, searchPath: String?,
                       isExecutable: (String) -> Bool = { access($0, X_OK) == 0 }) -> String? {
        let candidates = [executableDirectory].compactMap { $0 } + (searchPath ?? "").split(separator: ":").map(String.init)
        return candidates.filter { !$0.isEmpty }.map { $0 + "/" + name }.first(where: isExecutable)
    }

    /// Replaces this process with `berth-registry arguments…`; returns only by throwing.
    static func exec(_ arguments: [String]) throws -> Never {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let own = n > 0 ? String(cString: buffer) : nil
        let directory = own.map { path in String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
        guard let path = locate(besides: directory, searchPath: getenv("PATH").map { String(cString: $0) }) else {
            throw CLIError.failed("berth: \(name) not found beside berth or in PATH; install it next to berth")
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        execv(path, argv)
        throw CLIError.system(operation: "exec \(path)", errno: errno)
    }
}
