/// The body of `POST /containers/create` (Engine API `ContainerConfig` + `HostConfig`), with the
/// fields `berth run`/`create` set. Nil fields are left out so the daemon applies the image's
/// defaults (`Cmd`, `Entrypoint`) and its own (`PidsLimit`, `Init`).
struct ContainerCreateBody: Encodable {
    var hostname = ""
    var domainname = ""
    var user = ""
    var attachStdin = false
    var attachStdout = false
    var attachStderr = false
    var exposedPorts: [String: EmptyObject]?
    var tty = false
    var openStdin = false
    var stdinOnce = false
    var env: [String] = []
    var cmd: [String]?
    var image: String
    var volumes: [String: EmptyObject]?
    var workingDir = ""
    var entrypoint: [String]?
    var labels: [String: String] = [:]
    var stopSignal: String?
    var stopTimeout: Int?
    var healthcheck: HealthcheckBody?
    var hostConfig = HostConfigBody()
    var networkingConfig: NetworkingConfigBody?
}

/// `NetworkingConfig` of the create body: endpoint settings by network name.
struct NetworkingConfigBody: Encodable {
    var endpointsConfig: [String: EndpointBody]
}

/// One network's endpoint settings (create bodies and `network connect`).
struct EndpointBody: Encodable {
    /// `IPAMConfig`: static addresses.
    struct Addresses: Encodable {
        var iPv4Address: String?
        var iPv6Address: String?

        /// Nil when neither is given.
        static func of(_ ipv4: String?, _ ipv6: String?) -> Addresses? {
            ipv4 == nil && ipv6 == nil ? nil : Addresses(iPv4Address: ipv4, iPv6Address: ipv6)
        }
    }
    var aliases: [String]?
    var iPAMConfig: Addresses?
    var links: [String]?
}

/// `Healthcheck` of the create body (durations in nanoseconds; zero: the image's or the default).
struct HealthcheckBody: Encodable {
    var test: [String]?
    var interval: Int64 = 0
    var timeout: Int64 = 0
    var startPeriod: Int64 = 0
    var startInterval: Int64 = 0
    var retries = 0
}

/// `HostConfig` of the create body.
struct HostConfigBody: Encodable {
    var binds: [String]?
    var mounts: [MountBody]?
    var volumesFrom: [String]?
    var restartPolicy: RestartPolicyBody?
    var pidMode: String?
    var ipcMode: String?
    var utsMode: String?
    var groupAdd: [String]?
    var devices: [DeviceMappingBody]?
    var deviceCgroupRules: [String]?
    var sysctls: [String: String]?
    var shmSize: Int64?
    var ulimits: [UlimitBody]?
    var oomKillDisable: Bool?
    var oomScoreAdj: Int?
    var cpuShares: Int64?
    var cpusetCpus: String?
    var memorySwap: Int64?
    var memoryReservation: Int64?
    var annotations: [String: String]?
    var logConfig: LogConfigBody?
    var portBindings: [String: [PortBindingBody]]?
    var tmpfs: [String: String]?
    var readonlyRootfs = false
    var memory: Int64 = 0
    var nanoCpus: Int64 = 0
    var pidsLimit: Int64?
    var `init`: Bool?
    var networkMode = "default"
    var links: [String]?
    var extraHosts: [String]?
    var dns: [String]?
    var publishAllPorts: Bool?
    var autoRemove = false
    var capAdd: [String]?
    var capDrop: [String]?
    var securityOpt: [String]?
    var runtime: String?
    var privileged = false
    var cgroupnsMode: String?
    var usernsMode: String?
}

/// `HostConfig.LogConfig`.
struct LogConfigBody: Encodable {
    var type: String
    var config: [String: String]
}

/// `HostConfig.Devices` entry.
struct DeviceMappingBody: Encodable {
    var pathOnHost: String
    var pathInContainer: String
    var cgroupPermissions: String
}

/// `HostConfig.Ulimits` entry.
struct UlimitBody: Encodable {
    var name: String
    var soft: Int64
    var hard: Int64
}

/// `HostConfig.RestartPolicy`: `{"Name": "on-failure", "MaximumRetryCount": 3}`.
struct RestartPolicyBody: Codable, Equatable {
    var name: String
    var maximumRetryCount: Int

    /// `no`, `always`, `unless-stopped`, `on-failure[:N]`, refused with docker's words otherwise.
    static func parse(_ text: String, commandName: String) throws -> RestartPolicyBody {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        func invalid(_ reason: String) -> CLIError {
            CLIError.invalidFlag(command: commandName, value: text, flag: "--restart", reason: reason)
        }
        switch parts[0] {
        case "", "no", "always", "unless-stopped":
            guard parts.count == 1 else { throw invalid("maximum retry count can only be used with 'on-failure'") }
            return RestartPolicyBody(name: parts[0].isEmpty ? "no" : parts[0], maximumRetryCount: 0)
        case "on-failure":
            guard parts.count == 2 else { return RestartPolicyBody(name: "on-failure", maximumRetryCount: 0) }
            guard let count = Int(parts[1]) else { throw invalid("invalid restart policy format: maximum retry count must be an integer") }
            return RestartPolicyBody(name: "on-failure", maximumRetryCount: count)
        default:
            throw invalid("invalid restart policy format: unknown policy '\(parts[0])'")
        }
    }
}

/// One host address for a published port: `{"HostIp": "127.0.0.1", "HostPort": "8080"}`.
struct PortBindingBody: Codable, Equatable {
    var hostIp: String
    var hostPort: String
}

/// The body of `POST /containers/{id}/exec`.
struct ExecCreateBody: Encodable {
    var user = ""
    var privileged = false
    var tty = false
    var attachStdin = false
    var attachStderr = true
    var attachStdout = true
    var detach = false
    var detachKeys = ""
    var env: [String]?
    var workingDir = ""
    var cmd: [String]
}

/// The body of `POST /exec/{id}/start`.
struct ExecStartBody: Encodable {
    var detach: Bool
    var tty: Bool
}

/// `{}`: the value of each key in `Volumes` and similar sets.
struct EmptyObject: Codable {}
