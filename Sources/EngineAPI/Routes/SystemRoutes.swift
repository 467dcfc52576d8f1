import BerthSystem
import Engine
import Glibc
import NIOHTTP1
import OCI

/// `/_ping`, `/version`, `/info`: what clients ask before anything else.
struct SystemRoutes {
    let engine: EngineServices

    func register(in router: inout Router) {
        router.add(.GET, "/_ping") { request, _ in
            let body: [UInt8] = request.method == .HEAD ? [] : Array("OK".utf8)
            return .data(.ok, contentType: "text/plain; charset=utf-8", body: body,
                         extraHeaders: [("Builder-Version", "1"), ("Swarm", "inactive"), ("Cache-Control", "no-cache, no-store, must-revalidate"), ("Pragma", "no-cache")])
        }
        router.add(.GET, "/version") { _, _ in .json(.ok, VersionInfo.current()) }
        router.add(.GET, "/info") { _, _ in .json(.ok, await info()) }
    }

    private func info() async -> SystemInfo {
        let containers = await engine.containers.list(all: true)
        let paused = containers.filter { $0.state.isPaused }.count
        let running = containers.filter { $0.state.isRunning }.count - paused
        return SystemInfo(
            ID: engine.daemonID, Containers: containers.count, ContainersRunning: running, ContainersPaused: paused,
            ContainersStopped: containers.count - running - paused, Images: await engine.images.list().count,
            Driver: "overlay2", DriverStatus: [["Backing Filesystem", Host.filesystemType(of: engine.configuration.root)]],
            KernelVersion: Host.kernelVersion(), OperatingSystem: Host.operatingSystem(), OSType: "linux",
            Architecture: Host.machine(), NCPU: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            MemTotal: Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE))),
            Name: Host.name(), ServerVersion: BerthVersion.version, DockerRootDir: engine.configuration.root,
            CgroupDriver: "cgroupfs", CgroupVersion: Host.cgroupVersion(),
            DefaultRuntime: engine.configuration.defaultRuntime,
            Runtimes: engine.configuration.runtimes.mapValues { ["path": $0] },
            Swarm: SwarmInfo(),
            RegistryConfig: RegistryConfig(), SecurityOptions: Self.securityOptions(engine.configuration), Warnings: [])
    }

    /// dockerd's `SecurityOptions` entries for what every container gets by default.
    static func securityOptions(_ configuration: EngineConfiguration) -> [String] {
        ["name=seccomp,profile=builtin", "name=cgroupns"] + (configuration.userNamespaceRemap == nil ? [] : ["name=userns"])
    }
}

struct SwarmInfo: Encodable {
    var LocalNodeState = "inactive"
    var NodeID = ""
    var NodeAddr = ""
    var ControlAvailable = false
    var Error = ""
}

struct RegistryConfig: Encodable {
    var IndexConfigs: [String: String] = [:]
    var InsecureRegistryCIDRs = ["127.0.0.0/8"]
}

struct SystemInfo: Encodable {
    var ID: String
    var Containers, ContainersRunning, ContainersPaused, ContainersStopped, Images: Int
    var Driver: String
    var DriverStatus: [[String]]
    var KernelVersion, OperatingSystem, OSType, Architecture: String
    var NCPU: Int
    var MemTotal: Int64
    var Name, ServerVersion, DockerRootDir, CgroupDriver, CgroupVersion, DefaultRuntime: String
    var Runtimes: [String: [String: String]]
    var Swarm: SwarmInfo
    var RegistryConfig: RegistryConfig
    var SecurityOptions: [String]
    var Warnings: [String]
    var MemoryLimit = true
    var SwapLimit = false
    var LiveRestoreEnabled = true
    var ExperimentalBuild = false
    var IndexServerAddress = "https://index.docker.io/v1/"
    var Labels: [String] = []
    var Plugins = ["Volume": ["local"], "Network": ["host", "null"], "Log": ["json-file", "local", "none"]]
}

struct VersionInfo: Encodable {
    struct Component: Encodable {
        var Name: String
        var Version: String
        var Details: [String: String]
    }
    var Platform = ["Name": "Berth"]
    var Components: [Component]
    var Version, ApiVersion, MinAPIVersion, GitCommit, GoVersion, Os, Arch, KernelVersion: String
    var BuildTime = ""

    static func current() -> VersionInfo {
        VersionInfo(
            Components: [Component(Name: "Engine", Version: BerthVersion.version, Details: [
                "ApiVersion": APIVersion.current.description, "MinAPIVersion": APIVersion.minimum.description,
                "Arch": Host.goArch(), "Os": "linux", "KernelVersion": Host.kernelVersion(), "GitCommit": "", "GoVersion": "swift",
                "Experimental": "false", "BuildTime": ""])],
            Version: BerthVersion.version, ApiVersion: APIVersion.current.description, MinAPIVersion: APIVersion.minimum.description,
            GitCommit: "", GoVersion: "swift", Os: "linux", Arch: Host.goArch(), KernelVersion: Host.kernelVersion())
    }
}

/// Facts about this machine for `info` and `version`.
enum Host {
    static func uname() -> utsname {
        var u = utsname()
        Glibc.uname(&u)
        return u
    }

    private static func field<T>(_ value: T) -> String {
        withUnsafeBytes(of: value) { raw in String(cString: raw.bindMemory(to: CChar.self).baseAddress!) }
    }

    static func kernelVersion() -> String { field(uname().release) }
    static func machine() -> String { field(uname().machine) }
    static func name() -> String { field(uname().nodename) }
    static func goArch() -> String { Platform.current.architecture }

    static func operatingSystem() -> String {
        guard let bytes = try? FileSystem.readFile("/etc/os-release") else { return "Linux" }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            var value = line.dropFirst("PRETTY_NAME=".count)
            if value.hasPrefix("\"") { value = value.dropFirst() }
            if value.hasSuffix("\"") { value = value.dropLast() }
            return String(value)
        }
        return "Linux"
    }

    /// The type of the file system holding `path` (longest matching mount point).
    static func filesystemType(of path: String) -> String {
        let mounts = (try? FileSystem.readFile("/proc/self/mounts")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        var best = (length: -1, type: "unknown")
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 2 else { continue }
            let point = String(fields[1])
            let matches = path == point || path.hasPrefix(point == "/" ? "/" : point + "/")
            if matches && point.count > best.length { best = (point.count, String(fields[2])) }
        }
        return best.type
    }

    static func cgroupVersion() -> String {
        let mounts = (try? FileSystem.readFile("/proc/self/mounts")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return mounts.contains(" /sys/fs/cgroup cgroup2 ") ? "2" : "1"
    }
}
