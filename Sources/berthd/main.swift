import ArgumentParser
import BerthSystem
import Engine
import EngineAPI
import Glibc

/// `berthd`: the Berth daemon. Serves the Docker Engine API on a Unix socket.
@main
struct Berthd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "berthd", abstract: "The Berth container engine daemon.")

    @Option(name: .long, help: "Persistent state directory.")
    var root = "/var/lib/berth"

    @Option(name: .long, help: "Runtime state directory (tmpfs).")
    var execRoot = "/run/berth"

    @Option(name: [.customShort("H"), .long], help: "Socket to serve the API on (unix:///path).")
    var host = "unix:///run/berth/berth.sock"

    @Option(name: .long, help: "Runtime used when a container names none: berth or runc.")
    var defaultRuntime = "berth"

    @Option(name: .long, help: "Path of berth-runtime (default: beside berthd).")
    var runtimePath: String?

    @Option(name: .long, help: "Path of berth-monitor (default: beside berthd).")
    var monitorPath: String?

    @Option(name: .customLong("insecure-registry"), help: "A registry (host[:port] or IPv4 CIDR) to reach over plain HTTP; repeatable. localhost and 127.0.0.0/8 always are.")
    var insecureRegistries: [String] = []

    @Option(name: .customLong("registry-certs-dir"), help: "Extra registry CAs: DIR/<host[:port]>/*.crt (docker's certs.d layout).")
    var registryCertificatesDirectory = "/etc/berth/certs.d"

    @Option(name: [.customShort("b"), .customLong("bridge")], help: "Name of the Linux bridge of the default bridge network (made if missing).")
    var bridge = "berth0"

    @Option(name: .customLong("bip"), help: "The default bridge network's gateway address and subnet (e.g. 192.168.5.1/24).")
    var bip: String?

    @Option(name: .customLong("default-address-pool"), help: "Where network subnets are picked from: base=CIDR,size=N; repeatable (default: docker's).")
    var defaultAddressPools: [String] = []

    @Flag(name: .customLong("ipv6"), help: "Give the default bridge network IPv6 too (dual stack).")
    var ipv6 = false

    @Option(name: .customLong("fixed-cidr-v6"), help: "With --ipv6, the default bridge network's IPv6 subnet (default: a unique local /64 the daemon picks).")
    var fixedCIDRv6: String?

    @Option(name: .customLong("build-context-memory"), help: "Build contexts up to this many bytes (as sent) are unpacked in memory, each in a tmpfs of its build's own; 0: always on disk (default: 1/16 of memory, at most 1 GiB).")
    var buildContextMemory: Int64?

    @Option(name: .customLong("userns-remap"), help: "Run containers in a user namespace: default (user dockremap), USER[:GROUP] or UID[:GID] with ranges in /etc/subuid and /etc/subgid.")
    var usernsRemap: String?

    func run() async throws {
        guard getuid() == 0 else { throw ValidationError("berthd must run as root") }
        guard host.hasPrefix("unix://") else { throw ValidationError("--host must be unix:///path") }
        let socketPath = String(host.dropFirst("unix://".count))
        let directory = Self.executableDirectory()
        var runtimes = [EngineConfiguration.builtinRuntimeName: runtimePath ?? directory + "/berth-runtime"]
        for candidate in ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/bin/runc"] where FileSystem.exists(candidate) {
            runtimes["runc"] = candidate
            break
        }
        guard runtimes[defaultRuntime] != nil else { throw ValidationError("unknown runtime \(defaultRuntime)") }
        var configuration = EngineConfiguration(
            root: root, execRoot: execRoot, runtimes: runtimes, defaultRuntime: defaultRuntime,
            monitorPath: monitorPath ?? directory + "/berth-monitor", insecureRegistries: insecureRegistries,
            registryCertificatesDirectory: registryCertificatesDirectory,
            userNamespaceRemap: try usernsRemap.map { try UserNamespaceRemap.resolve($0) }, defaultBridgeName: bridge,
            defaultBridgeAddress: try bip.map { try BridgeAddress(parsing: $0) }, defaultAddressPools: try AddressPoolSettings(parsing: defaultAddressPools))
        if ipv6 {
            if let fixedCIDRv6 {
                guard let subnet = IPv6Subnet(fixedCIDRv6, strict: true), subnet.prefixLength <= 126 else {
                    throw ValidationError("invalid --fixed-cidr-v6 \(fixedCIDRv6): an IPv6 network address with a prefix length of at most 126, such as fd00:1::/64, is expected")
                }
                configuration.defaultBridgeIPv6 = .subnet(subnet)
            } else {
                configuration.defaultBridgeIPv6 = .automatic
            }
        }
        if let buildContextMemory {
            guard buildContextMemory >= 0 else { throw ValidationError("--build-context-memory must be 0 or more bytes") }
            configuration.buildContextMemoryLimit = buildContextMemory
        }
        signal(SIGPIPE, SIG_IGN)
        let engine = try await EngineServices.start(configuration)
        for problem in await engine.containers.startupProblems {
            FileHandleOutput.standardError("berthd: \(problem)\n")
        }
        try FileSystem.makeDirectories(FileSystem.parent(of: socketPath), mode: 0o711)
        let server = APIServer(router: EngineRouter.make(engine), socketPath: socketPath, spillDirectory: configuration.temporaryRoot)
        FileHandleOutput.standardError("berthd: serving the Docker Engine API on unix://\(socketPath)\n")
        try await server.run()
    }

    static func executableDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "/usr/local/bin" }
        return FileSystem.parent(of: String(cString: buffer))
    }
}

enum FileHandleOutput {
    static func standardError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
