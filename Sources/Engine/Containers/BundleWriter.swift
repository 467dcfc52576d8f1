#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Glibc
import OCI

/// Turns a container record into an OCI runtime bundle (`<dir>/bundle/config.json`) with
/// docker's defaults: its namespaces, mounts, capabilities, masked paths and device rules, plus
/// what the user asked for (mounts, `--tmpfs`, `-m`, `--cpus`, `--pids-limit`, `--cap-add`, …).
struct BundleWriter {
    let containerDirectory: String
    let rootfs: String
    /// A static `tini` to bind at `/sbin/docker-init` for `--init`, if installed.
    let initBinary: String?

    var bundleDirectory: String { containerDirectory + "/bundle" }

    /// Writes the bundle's `config.json`; `baseEnv` is set before the container's own
    /// variables (which override it): docker's link variables.
    func write(_ record: ContainerRecord, user: UserResolver.Resolved, baseEnv: [String], joins: [String: String] = [:]) throws {
        let spec = try makeSpec(record, user: user, baseEnv: baseEnv, joins: joins)
        try FileSystem.makeDirectories(bundleDirectory, mode: 0o700)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically(bundleDirectory + "/config.json", bytes: Array(encoder.encode(spec)), mode: 0o600, durable: false)
    }

    /// The bundle's spec; `joins` maps namespace types (`pid`, `ipc`, `network`) to the paths
    /// of other containers' namespaces to join (`--pid container:<id>`).
    func makeSpec(_ record: ContainerRecord, user: UserResolver.Resolved, baseEnv: [String], joins: [String: String] = [:]) throws -> RuntimeSpec {
        let spec = record.spec
        let hostNetwork = spec.network.isHost
        let ipcMode = try HostOptions.ipc(spec)
        let utsMode = try HostOptions.uts(spec)
        let privileged = spec.security.privileged
        let caps = try SecurityDefaults.capabilities(adding: spec.security.capAdd, dropping: spec.security.capDrop, privileged: privileged)
        let security = try SecurityOptions(spec.security.securityOpt)
        var args = [record.path] + record.args
        // A network namespace made outside the container's user namespace (the engine's, joined
        // by path): its root may neither configure it nor mount a sysfs for it.
        let foreignNetwork = record.userNamespace != nil && !hostNetwork && (record.networkNamespace != nil || joins["network"] != nil)
        var mounts = defaultMounts(privileged: privileged, ipc: ipcMode, shmSize: spec.resources.shmSize.flatMap { $0 > 0 ? $0 : nil } ?? 67_108_864,
                                   bindsSysfs: foreignNetwork)
        if spec.runsInit {
            guard let initBinary else {
                throw EngineError.invalidParameter("--init needs a static init binary; install Debian's tini package")
            }
            mounts.append(.init(destination: "/sbin/docker-init", type: "bind", source: initBinary, options: ["rbind", "ro"]))
            args = ["/sbin/docker-init", "--"] + args
        }
        mounts += userMounts(record)
        for file in ["hostname", "hosts", "resolv.conf"] {
            mounts.append(.init(destination: "/etc/" + file, type: "bind", source: containerDirectory + "/" + file, options: ["rbind", "rprivate"]))
        }
        var process = RuntimeSpec.Process(
            terminal: spec.process.tty,
            user: .init(uid: user.uid, gid: user.gid, additionalGids: user.additionalGids),
            args: args,
            env: environment(record, baseEnv: baseEnv, home: user.home),
            cwd: spec.process.workingDir.isEmpty ? "/" : spec.process.workingDir,
            capabilities: .init(bounding: caps, effective: caps, inheritable: [], permitted: caps, ambient: []),
            rlimits: rlimits(spec.resources.ulimits),
            noNewPrivileges: security.noNewPrivileges)
        process.oomScoreAdj = spec.security.oomScoreAdj
        if spec.process.tty, let size = spec.consoleSize {
            process.consoleSize = .init(height: size.rows, width: size.columns)
        }
        var namespaces: [RuntimeSpec.Namespace] = []
        for (type, mode) in [("pid", try HostOptions.pid(spec)), ("ipc", ipcMode), ("uts", utsMode)] where mode != .host {
            namespaces.append(.init(type: type, path: joins[type]))
        }
        namespaces.append(.init(type: "mount"))
        if !hostNetwork { namespaces.append(.init(type: "network", path: joins["network"] ?? record.networkNamespace)) }
        if (spec.namespaces.cgroup.isEmpty ? SecurityDefaults.cgroupNamespaceMode : spec.namespaces.cgroup) == "private" {
            namespaces.append(.init(type: "cgroup"))
        }
        if record.userNamespace != nil { namespaces.append(.init(type: "user")) }
        var resources = Self.resources(spec.resources)
        var devices: [RuntimeSpec.Device] = []
        for request in spec.security.devices {
            let (node, rule) = try HostOptions.device(request)
            devices.append(node)
            resources.devices = (resources.devices ?? []) + [rule]
        }
        resources.devices = (resources.devices ?? []) + (try spec.security.deviceCgroupRules.map(HostOptions.deviceRule))
        var linux = RuntimeSpec.Linux(
            namespaces: namespaces,
            cgroupsPath: "/berth/\(record.id)",
            resources: resources,
            maskedPaths: privileged || security.unmaskedSystemPaths ? [] : SecurityDefaults.maskedPaths,
            readonlyPaths: privileged || security.unmaskedSystemPaths ? [] : SecurityDefaults.readonlyPaths)
        linux.seccomp = security.seccompProfile(capabilities: caps, privileged: privileged)
        if !devices.isEmpty { linux.devices = devices }
        if let map = record.userNamespace {
            linux.uidMappings = map.uids
            linux.gidMappings = map.gids
        }
        if !hostNetwork {
            // A user namespace's sysctl takes only the groups it maps.
            let highestGroup = record.userNamespace?.highestContainerGID ?? 2_147_483_647
            linux.sysctl = ["net.ipv4.ip_unprivileged_port_start": "0", "net.ipv4.ping_group_range": "0 \(highestGroup)"]
        }
        if !spec.security.sysctls.isEmpty { linux.sysctl = (linux.sysctl ?? [:]).merging(spec.security.sysctls) { $1 } }
        if foreignNetwork {
            // The engine set the `net.` sysctls when it made the namespace.
            linux.sysctl = linux.sysctl?.filter { !$0.key.hasPrefix("net.") }
            if linux.sysctl?.isEmpty == true { linux.sysctl = nil }
        }
        return RuntimeSpec(
            process: process,
            root: .init(path: rootfs, readonly: spec.storage.readOnlyRootfs),
            hostname: utsMode == .own ? (spec.hostname.isEmpty ? record.shortID : spec.hostname) : nil,
            mounts: mounts,
            linux: linux,
            annotations: spec.annotations.merging(["org.berth.container.name": record.name]) { $1 })
    }

    /// docker's mounts of every container; `/dev/shm` is the host's with `--ipc host`, absent
    /// with `--ipc none`, else a tmpfs of `shmSize` bytes. With `bindsSysfs`, `/sys` is the
    /// host's bound read-only (what runc and Berth's runtime fall back to where sysfs cannot be
    /// mounted; said here so that every runtime does it).
    private func defaultMounts(privileged: Bool, ipc: HostOptions.NamespaceMode, shmSize: Int64, bindsSysfs: Bool) -> [RuntimeSpec.Mount] {
        let sysfs: RuntimeSpec.Mount = bindsSysfs
            ? .init(destination: "/sys", type: "bind", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
            : .init(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", privileged ? "rw" : "ro"])
        var mounts: [RuntimeSpec.Mount] = [
            .init(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            .init(destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            sysfs,
            .init(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"]),
            .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
        ]
        switch ipc {
        case .host: mounts.append(.init(destination: "/dev/shm", type: "bind", source: "/dev/shm", options: ["rbind", "rprivate"]))
        case .none: break
        default: mounts.append(.init(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=\(shmSize)"]))
        }
        return mounts
    }

    /// The record's binds, volumes and tmpfs mounts (resolved at create), then `--tmpfs`.
    private func userMounts(_ record: ContainerRecord) -> [RuntimeSpec.Mount] {
        var result: [RuntimeSpec.Mount] = []
        for mount in record.mounts {
            switch mount.kind {
            case .bind, .volume:
                var options = [mount.recursive ? "rbind" : "bind"] + Self.access(readOnly: mount.readOnly)
                if !mount.propagation.isEmpty { options.append(mount.propagation) }
                result.append(.init(destination: mount.destination, type: "bind", source: mount.source, options: options))
            case .tmpfs:
                let options = ["nosuid", "nodev", "noexec"] + (mount.readOnly ? ["ro"] : []) + mount.tmpfsOptions
                result.append(.init(destination: mount.destination, type: "tmpfs", source: "tmpfs", options: options))
            }
        }
        for (target, optionString) in record.spec.storage.tmpfs.sorted(by: { $0.key < $1.key }) {
            var options = ["nosuid", "nodev", "noexec"]
            options += optionString.split(separator: ",").map(String.init)
            result.append(.init(destination: target, type: "tmpfs", source: "tmpfs", options: options))
        }
        return result
    }

    /// A read-only bind is read-only all the way down (`rro`, as moby ≥ 25 sends it), so no
    /// submount of the source stays writable.
    static func access(readOnly: Bool) -> [String] {
        readOnly ? ["ro", "rro"] : ["rw"]
    }

    private func environment(_ record: ContainerRecord, baseEnv: [String], home: String) -> [String] {
        var env: [String] = []
        func set(_ entry: String) {
            let key = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            env.removeAll { $0.split(separator: "=", maxSplits: 1).first.map(String.init) == key }
            env.append(entry)
        }
        set("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        set("HOSTNAME=\(record.spec.hostname.isEmpty ? record.shortID : record.spec.hostname)")
        baseEnv.forEach(set)
        record.spec.process.env.filter { $0.contains("=") }.forEach(set)
        if record.spec.process.tty, !env.contains(where: { $0.hasPrefix("TERM=") }) { set("TERM=xterm") }
        if !env.contains(where: { $0.hasPrefix("HOME=") }) { set("HOME=\(home)") }
        return env
    }

    private func rlimits(_ ulimits: [ProcessLimit]) -> [RuntimeSpec.Rlimit] {
        // Set explicitly (a runtime must not guess), to the daemon's own limits: the effective
        // default docker containers get, and never above what the runtime may set (raising a
        // hard limit past the host's is refused — the failure podman shows on this machine).
        var own = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &own)
        var limits: [String: RuntimeSpec.Rlimit] = ["RLIMIT_NOFILE": .init(type: "RLIMIT_NOFILE", hard: UInt64(own.rlim_max), soft: UInt64(own.rlim_cur))]
        for ulimit in ulimits {
            let type = "RLIMIT_" + ulimit.name.uppercased()
            limits[type] = .init(type: type, hard: UInt64(max(0, ulimit.hard)), soft: UInt64(max(0, ulimit.soft)))
        }
        return limits.values.sorted { $0.type < $1.type }
    }

    /// The cgroup limits of `limits`, with docker's device rules.
    static func resources(_ limits: ResourceSpec) -> RuntimeSpec.Resources {
        var resources = RuntimeSpec.Resources(devices: SecurityDefaults.deviceRules)
        var memory = RuntimeSpec.Memory()
        if let limit = limits.memory, limit > 0 { memory.limit = limit }
        if let swap = limits.memorySwap, swap != 0, memory.limit != nil { memory.swap = swap }
        if let reservation = limits.memoryReservation, reservation > 0 { memory.reservation = reservation }
        if let swappiness = limits.memorySwappiness, (0...100).contains(swappiness) { memory.swappiness = UInt64(swappiness) }
        if limits.oomKillDisable { memory.disableOOMKiller = true }
        if memory != RuntimeSpec.Memory() { resources.memory = memory }
        var cpu = RuntimeSpec.CPU()
        if let nano = limits.nanoCpus, nano > 0 {
            cpu.period = 100_000
            cpu.quota = nano * 100_000 / 1_000_000_000
        }
        if let quota = limits.cpuQuota, quota > 0 { cpu.quota = quota }
        if let period = limits.cpuPeriod, period > 0 { cpu.period = UInt64(period) }
        if let shares = limits.cpuShares, shares > 0 { cpu.shares = UInt64(shares) }
        if !limits.cpusetCpus.isEmpty { cpu.cpus = limits.cpusetCpus }
        if cpu != RuntimeSpec.CPU() { resources.cpu = cpu }
        if let pids = limits.pidsLimit, pids > 0 { resources.pids = .init(limit: pids) }
        return resources
    }
}

/// The files bind-mounted at `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`, written as
/// docker writes them; in a user namespace (`owner`) they belong to the container's root, who
/// may edit them as in docker.
enum EtcFiles {
    /// What the files say besides the host's own: the container's addresses on its bridge
    /// networks, whether it asks the embedded resolver, the containers it links to, and the
    /// user's `--add-host`, `--dns`, `--dns-search` and `--dns-option`.
    struct Settings {
        var hostname: String
        var network: NetworkSpec
        var endpoints: [NetworkEndpoint] = []
        /// `--link` targets: their address and the names to give it.
        var links: [(address: IPv4Address, names: [String])] = []
    }

    static func write(into directory: String, _ settings: Settings, owner: IDMap? = nil) throws {
        let hostNetwork = settings.network.isHost
        try FileSystem.writeAtomically(directory + "/hostname", bytes: Array((settings.hostname + "\n").utf8), durable: false)
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
        if hostNetwork, let hostHosts = try? FileSystem.readFile("/etc/hosts") {
            hosts = String(decoding: hostHosts, as: UTF8.self)
        }
        for entry in settings.network.extraHosts {
            // `name:address`; `host-gateway` is the gateway of the container's network.
            guard let colon = entry.firstIndex(of: ":") else { continue }
            var address = String(entry[entry.index(after: colon)...])
            if address == "host-gateway" { address = settings.endpoints.first?.gateway.description ?? "127.0.0.1" }
            hosts += "\(address)\t\(entry[..<colon])\n"
        }
        for link in settings.links { hosts += "\(link.address)\t\(link.names.joined(separator: " "))\n" }
        // Its own addresses under its name, as docker writes them.
        for endpoint in settings.endpoints {
            hosts += "\(endpoint.address)\t\(settings.hostname)\n"
            if let ipv6 = endpoint.ipv6 { hosts += "\(ipv6.address)\t\(settings.hostname)\n" }
        }
        try FileSystem.writeAtomically(directory + "/hosts", bytes: Array(hosts.utf8), durable: false)
        let resolv = resolvConf(hostNetwork: hostNetwork, embeddedResolver: settings.endpoints.contains(where: \.usesEmbeddedResolver), network: settings.network)
        try FileSystem.writeAtomically(directory + "/resolv.conf", bytes: Array(resolv.utf8), durable: false)
        if let uid = owner?.hostRootUID, let gid = owner?.hostRootGID {
            for file in ["hostname", "hosts", "resolv.conf"] where chown(directory + "/" + file, uid, gid) != 0 {
                throw EngineError.failure("cannot give \(directory)/\(file) to the container's root: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// `--add-host` entries must be `name:address` (or `name:host-gateway`).
    static func validate(extraHosts: [String]) throws {
        for entry in extraHosts {
            let parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[1] == "host-gateway" || IPv4Address(parts[1]) != nil || parts[1].contains(":") else {
                throw EngineError.invalidParameter("invalid IP address in add-host: \"\(entry)\"")
            }
        }
    }

    /// docker's resolv.conf: the host's with `--network host`; on user-defined networks the
    /// embedded resolver with `ndots:0`; else the host's without loopback nameservers (docker's
    /// fallback servers when none remain). `--dns`, `--dns-search` and `--dns-option` replace
    /// the host's nameservers, search domains and options.
    static func resolvConf(hostNetwork: Bool, embeddedResolver: Bool, network: NetworkSpec) -> String {
        let host = (try? FileSystem.readFile("/etc/resolv.conf")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if hostNetwork && network.dns.isEmpty && network.dnsSearch.isEmpty && network.dnsOptions.isEmpty { return host }
        var nameservers: [String] = []
        var search: [String] = []
        var options: [String] = []
        for line in host.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            switch fields.first {
            case "nameserver" where fields.count > 1:
                if hostNetwork || (!fields[1].hasPrefix("127.") && fields[1] != "::1") { nameservers.append(fields[1]) }
            case "search", "domain": search = Array(fields.dropFirst())
            case "options": options += fields.dropFirst()
            default: break
            }
        }
        if !network.dns.isEmpty { nameservers = network.dns }
        if nameservers.isEmpty { nameservers = ["8.8.8.8", "8.8.4.4"] }
        if !network.dnsSearch.isEmpty { search = network.dnsSearch }
        if !network.dnsOptions.isEmpty { options = network.dnsOptions }
        if embeddedResolver {
            nameservers = [EmbeddedResolver.address.description]
            options = ["ndots:0"] + options.filter { !$0.hasPrefix("ndots:") }
        }
        var lines = nameservers.map { "nameserver " + $0 }
        if !search.isEmpty { lines.append("search " + search.joined(separator: " ")) }
        if !options.isEmpty { lines.append("options " + options.joined(separator: " ")) }
        return lines.joined(separator: "\n") + "\n"
    }
}
