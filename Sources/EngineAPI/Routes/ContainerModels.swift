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
    var Ports: [String] = []
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
        NetworkSettings = ["Networks": NetworkSettingsInfo(mode: r.spec.network.mode, endpoint: r.endpoint).Networks]
        Mounts = r.mounts.map(MountInfo.init)
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

    init(_ r: ContainerRecord, directory: String, execIDs: [String]) {
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
        NetworkSettings = NetworkSettingsInfo(mode: r.spec.network.mode, endpoint: r.endpoint)
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
    var Ports: [String: String] = [:]
    var IPAddress = ""
    var IPPrefixLen = 0
    var Gateway = ""
    var MacAddress = ""
    var Networks: [String: EndpointInfo]

    /// The settings of a container in network mode `mode`, with its endpoint while it runs
    /// (the top-level address fields are docker's, filled for the default bridge only).
    init(mode: String, endpoint: NetworkEndpoint?) {
        var entry = EndpointInfo()
        if let endpoint {
            entry.MacAddress = endpoint.macAddress
            entry.NetworkID = endpoint.networkID
            entry.EndpointID = endpoint.endpointID
            entry.Gateway = endpoint.gateway.description
            entry.IPAddress = endpoint.address.description
            entry.IPPrefixLen = endpoint.prefixLength
            SandboxID = endpoint.endpointID
            SandboxKey = endpoint.sandbox
            if endpoint.networkName == "bridge" {
                IPAddress = entry.IPAddress
                IPPrefixLen = entry.IPPrefixLen
                Gateway = entry.Gateway
                MacAddress = entry.MacAddress
            }
        }
        Networks = [mode: entry]
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
