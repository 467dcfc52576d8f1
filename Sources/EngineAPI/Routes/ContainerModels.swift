import BerthSystem
import Engine

/// `GET /containers/json` rows.
struct ContainerSummary: Encodable {
    var Id: String
    var Names: [String]
    var Image: String
    var ImageID: String
    var Command: String
    var Created: Int64
    var Ports: [PortRow]
    var Labels: [String: String]
    var State: String
    var Status: String
    var HostConfig: [String: String]
    var NetworkSettings: [String: [String: NetworkSettingsInfo.EndpointInfo]]
    var Mounts: [MountInfo]

    init(_ r: ContainerRecord, now: Timestamp) {
        Id = r.id
        Names = ["/" + r.name]
        Image = r.imageName
        ImageID = r.image.description
        Command = ([r.path] + r.args).map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " ")
        Created = r.created.seconds
        Labels = r.spec.labels
        State = r.state.word
        Status = Self.status(r.state, now: now)
        HostConfig = ["NetworkMode": r.spec.network.mode]
        Ports = PortRow.rows(exposed: r.spec.exposedPorts, published: r.endpoints.flatMap(\.ports))
        NetworkSettings = ["Networks": NetworkSettingsInfo(r).Networks]
        Mounts = r.mounts.map(MountInfo.init)
    }

    /// One row of `Ports` in the list: a published port, or an exposed one alone.
    struct PortRow: Encodable {
        var IP: String?
        var PrivatePort: UInt16
        var PublicPort: UInt16?
        var `Type`: String

        static func rows(exposed: [String], published: [PublishedPort]) -> [PortRow] {
            var rows = published.map { PortRow(IP: $0.hostIPText, PrivatePort: $0.containerPort, PublicPort: $0.hostPort, Type: $0.proto) }
            let shown = Set(published.map { "\($0.containerPort)/\($0.proto)" })
            for key in exposed where !shown.contains(key) {
                guard let (port, proto) = try? PortBinding.parseKey(key) else { continue }
                rows.append(PortRow(IP: nil, PrivatePort: port, PublicPort: nil, Type: proto))
            }
            return rows
        }
    }

    /// docker's human status: `Up 5 seconds`, `Exited (3) 2 minutes ago`, `Created`.
    static func status(_ s: ContainerState, now: Timestamp) -> String {
        switch s.status {
        case .running:
            var health = ""
            switch s.health?.status {
            case .starting: health = " (health: starting)"
            case .healthy: health = " (healthy)"
            case .unhealthy: health = " (unhealthy)"
            case nil: break
            }
            return "Up " + HumanDuration.describe(seconds: Double(now.seconds - s.startedAt.seconds)) + (s.isPaused ? " (Paused)" : health)
        case .exited:
            let ago = HumanDuration.describe(seconds: Double(now.seconds - s.finishedAt.seconds))
            return (s.isRestarting ? "Restarting" : "Exited") + " (\(s.exitCode)) \(ago) ago"
        case .created: return "Created"
        case .removing: return "Removal In Progress"
        case .dead: return "Dead"
        }
    }
}

/// `GET /containers/{id}/json`.
struct ContainerInspect: Encodable {
    struct StateInfo: Encodable {
        var Status: String
        var Running: Bool
        var Paused = false
        var Restarting = false
        var OOMKilled: Bool
        var Dead: Bool
        var Pid: Int32
        var ExitCode: Int32
        var Error: String
        var StartedAt: String
        var FinishedAt: String
        var Health: HealthInfo?
    }
    struct HealthInfo: Encodable {
        struct Probe: Encodable {
            var Start: String
            var End: String
            var ExitCode: Int32
            var Output: String
        }
        var Status: String
        var FailingStreak: Int
        var Log: [Probe]

        init(_ health: HealthState) {
            Status = health.status.rawValue
            FailingStreak = health.failingStreak
            Log = health.log.map { Probe(Start: $0.start.rfc3339Nano, End: $0.end.rfc3339Nano, ExitCode: $0.exitCode, Output: $0.output) }
        }
    }
    var Id: String
    var Created: String
    var Path: String
    var Args: [String]
    var State: StateInfo
    var Image: String
    var ResolvConfPath: String
    var HostnamePath: String
    var HostsPath: String
    var LogPath: String
    var Name: String
    var RestartCount: Int
    var Driver = "overlay2"
    var Platform = "linux"
    var MountLabel = ""
    var ProcessLabel = ""
    var AppArmorProfile = ""
    var ExecIDs: [String]?
    var HostConfig: EngineAPI.HostConfig
    var GraphDriver = GraphDriverInfo()
    var Mounts: [MountInfo]
    var Config: ContainerConfig
    var NetworkSettings: NetworkSettingsInfo

    /// `shortIDAlias`: list the short ID among a user network's aliases (API versions before
    /// 1.45, which docker-compose 1.29 checks).
    init(_ r: ContainerRecord, directory: String, execIDs: [String], shortIDAlias: Bool = false) {
        Id = r.id
        Created = r.created.rfc3339Nano
        Path = r.path
        Args = r.args
        State = StateInfo(
            Status: r.state.word, Running: r.state.isRunning || r.state.isRestarting, Paused: r.state.isPaused,
            Restarting: r.state.isRestarting, OOMKilled: r.state.oomKilled,
            Dead: r.state.status == .dead, Pid: r.state.pid, ExitCode: r.state.exitCode, Error: r.state.error,
            StartedAt: r.state.startedAt.rfc3339Nano, FinishedAt: r.state.finishedAt.rfc3339Nano,
            Health: HealthSchedule(r.spec.healthcheck) == nil ? nil : HealthInfo(r.state.health ?? .starting))
        Image = r.image.description
        ResolvConfPath = directory + "/resolv.conf"
        HostnamePath = directory + "/hostname"
        HostsPath = directory + "/hosts"
        LogPath = directory + "/container-json.log"
        Name = "/" + r.name
        RestartCount = r.restartCount
        ExecIDs = execIDs.isEmpty ? nil : execIDs
        HostConfig = DockerContainerTranslation.hostConfig(of: r)
        Config = DockerContainerTranslation.config(of: r)
        Mounts = r.mounts.map(MountInfo.init)
        NetworkSettings = NetworkSettingsInfo(r, withPorts: true, shortIDAlias: shortIDAlias)
    }
}

struct NetworkSettingsInfo: Encodable {
    /// One network's entry in `Networks`.
    struct EndpointInfo: Encodable {
        var IPAMConfig: [String: String]?
        var Links: [String]?
        var Aliases: [String]?
        var MacAddress = ""
        var NetworkID = ""
        var EndpointID = ""
        var Gateway = ""
        var IPAddress = ""
        var IPPrefixLen = 0
        var IPv6Gateway = ""
        var GlobalIPv6Address = ""
        var GlobalIPv6PrefixLen = 0
        var DNSNames: [String]?
    }
    var Bridge = ""
    var SandboxID = ""
    var SandboxKey = ""
    /// Exposed ports, each with its host bindings while the container runs (null when none).
    var Ports: [String: Nullable<[[String: String]]>] = [:]
    var IPAddress = ""
    var IPPrefixLen = 0
    var Gateway = ""
    var GlobalIPv6Address = ""
    var GlobalIPv6PrefixLen = 0
    var IPv6Gateway = ""
    var MacAddress = ""
    var Networks: [String: EndpointInfo]

    /// The settings of a container: an entry per network it joins (with the endpoint's
    /// addresses while it runs; `none` and `host` by name, nothing for another container's
    /// namespace), the exposed ports with their bindings, and docker's top-level address
    /// fields (filled from the default bridge only).
    init(_ r: ContainerRecord, withPorts: Bool = false, shortIDAlias: Bool = false) {
        if withPorts, !r.endpoints.isEmpty {
            for key in r.spec.exposedPorts { Ports[key] = Nullable(nil) }
            var bound: [String: [[String: String]]] = [:]
            for port in r.endpoints.flatMap(\.ports) {
                bound["\(port.containerPort)/\(port.proto)", default: []].append(["HostIp": port.hostIPText, "HostPort": String(port.hostPort)])
            }
            for (key, list) in bound { Ports[key] = Nullable(list) }
        }
        SandboxID = r.endpoints.first?.endpointID ?? ""
        SandboxKey = r.endpoints.first?.sandbox ?? ""
        var networks: [String: EndpointInfo] = [:]
        let network = r.spec.network
        guard network.isBridged else {
            if network.sharedContainer == nil { networks[network.mode] = EndpointInfo() }
            Networks = networks
            return
        }
        for join in network.joins {
            var entry = EndpointInfo()
            var aliases = join.aliases
            if shortIDAlias, join.network != "bridge", !aliases.contains(r.shortID) { aliases.append(r.shortID) }
            entry.Aliases = aliases.isEmpty ? nil : aliases
            if join.address != nil || join.address6 != nil {
                entry.IPAMConfig = [:]
                entry.IPAMConfig?["IPv4Address"] = join.address?.description
                entry.IPAMConfig?["IPv6Address"] = join.address6?.description
            }
            if let endpoint = r.endpoints.first(where: { $0.networkName == join.network }) {
                entry.MacAddress = endpoint.macAddress
                entry.NetworkID = endpoint.networkID
                entry.EndpointID = endpoint.endpointID
                entry.Gateway = endpoint.gateway.description
                entry.IPAddress = endpoint.address.description
                entry.IPPrefixLen = endpoint.prefixLength
                entry.DNSNames = endpoint.names.isEmpty ? nil : endpoint.names
                if let ipv6 = endpoint.ipv6 {
                    entry.GlobalIPv6Address = ipv6.address.description
                    entry.GlobalIPv6PrefixLen = ipv6.prefixLength
                    entry.IPv6Gateway = ipv6.gateway.description
                }
                if endpoint.networkName == "bridge" {
                    IPAddress = entry.IPAddress
                    IPPrefixLen = entry.IPPrefixLen
                    Gateway = entry.Gateway
                    GlobalIPv6Address = entry.GlobalIPv6Address
                    GlobalIPv6PrefixLen = entry.GlobalIPv6PrefixLen
                    IPv6Gateway = entry.IPv6Gateway
                    MacAddress = entry.MacAddress
                }
            }
            networks[join.network] = entry
        }
        Networks = networks
    }
}

/// One of a container's mounts as docker shows it in inspect and in `ps` rows.
struct MountInfo: Encodable {
    var `Type`: String
    var Name: String?
    var Source: String
    var Destination: String
    var Driver: String?
    var Mode: String
    var RW: Bool
    var Propagation: String

    init(_ mount: MountPoint) {
        Type = mount.kind.rawValue
        Name = mount.name
        Source = mount.source
        Destination = mount.destination
        Driver = mount.kind == .volume ? "local" : nil
        Mode = mount.mode
        RW = !mount.readOnly
        Propagation = mount.propagation
    }
}
