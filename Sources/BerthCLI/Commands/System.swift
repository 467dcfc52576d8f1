import ArgumentParser

/// The CLI's own version numbers.
enum BerthVersion {
    /// The `berth` client's version.
    static let client = "0.1.0"
}

/// `GET /version`.
struct VersionResponse: Decodable {
    struct Platform: Decodable {
        let name: String?
    }
    let platform: Platform?
    let version: String?
    let apiVersion: String?
    let minAPIVersion: String?
    let gitCommit: String?
    let goVersion: String?
    let os: String?
    let arch: String?
    let kernelVersion: String?
    let buildTime: String?
    let experimental: Bool?
}

/// `berth version`: client and daemon versions.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Show the Berth version information")

    func run() throws {
        try Console.out("Client:\n" + Self.aligned([(" Version:", BerthVersion.client),
                                                  (" API version:", DaemonClient.apiVersion),
                                                  (" OS/Arch:", "linux/\(Self.architecture)")], width: 20))
        let server = try Berth.client().decode(VersionResponse.self, "GET", "/version")
        var api = server.apiVersion ?? ""
        if let minimum = server.minAPIVersion { api += " (minimum version \(minimum))" }
        try Console.out("\nServer: \(server.platform?.name ?? "Berth Engine")\n Engine:\n" + Self.aligned([
            ("  Version:", server.version ?? ""),
            ("  API version:", api),
            ("  Go version:", server.goVersion ?? ""),
            ("  Git commit:", server.gitCommit ?? ""),
            ("  Built:", server.buildTime ?? ""),
            ("  OS/Arch:", "\(server.os ?? "")/\(server.arch ?? "")"),
            ("  Experimental:", String(server.experimental ?? false)),
        ].filter { !$0.1.isEmpty }, width: 20))
    }

    /// `label` padded to `width`, then the value, one pair per line.
    static func aligned(_ pairs: [(String, String)], width: Int) -> String {
        pairs.map { label, value in
            label + String(repeating: " ", count: max(1, width - label.count)) + value + "\n"
        }.joined()
    }

    /// Docker's name for the CPU architecture this binary was built for.
    static var architecture: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }
}

/// `GET /info`, the fields `berth info` prints.
struct InfoResponse: Decodable {
    let iD: String?
    let containers: Int?
    let containersRunning: Int?
    let containersPaused: Int?
    let containersStopped: Int?
    let images: Int?
    let driver: String?
    let cgroupDriver: String?
    let cgroupVersion: String?
    let kernelVersion: String?
    let operatingSystem: String?
    let oSType: String?
    let architecture: String?
    let nCPU: Int?
    let memTotal: Int64?
    let name: String?
    let serverVersion: String?
    let dockerRootDir: String?
    let runtimes: [String: EmptyObject]?
    let defaultRuntime: String?
    let securityOptions: [String]?
    let warnings: [String]?
}

/// `berth info`: system-wide information from the daemon.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Display system-wide information")

    func run() throws {
        let info = try Berth.client().decode(InfoResponse.self, "GET", "/info")
        var lines: [String] = ["Client:", " Version:    \(BerthVersion.client)", "", "Server:"]
        func add(_ label: String, _ value: CustomStringConvertible?) {
            if let value { lines.append("\(label): \(value)") }
        }
        add(" Containers", info.containers)
        add("  Running", info.containersRunning)
        add("  Paused", info.containersPaused)
        add("  Stopped", info.containersStopped)
        add(" Images", info.images)
        add(" Server Version", info.serverVersion)
        add(" Storage Driver", info.driver)
        add(" Cgroup Driver", info.cgroupDriver)
        add(" Cgroup Version", info.cgroupVersion)
        add(" Runtimes", info.runtimes.map { $0.keys.sorted().joined(separator: " ") })
        add(" Default Runtime", info.defaultRuntime)
        if let options = info.securityOptions, !options.isEmpty {
            lines.append(" Security Options:")
            lines += options.map { "  \($0)" }
        }
        add(" Kernel Version", info.kernelVersion)
        add(" Operating System", info.operatingSystem)
        add(" OSType", info.oSType)
        add(" Architecture", info.architecture)
        add(" CPUs", info.nCPU)
        add(" Total Memory", info.memTotal.map(ByteSize.binarySize))
        add(" Name", info.name)
        add(" ID", info.iD)
        add(" Docker Root Dir", info.dockerRootDir)
        try Console.out(lines.joined(separator: "\n") + "\n")
        for warning in info.warnings ?? [] { Console.err("WARNING: \(warning)\n") }
    }
}
