import Engine
import OCI

/// A container's configuration as the Docker Engine API carries it (`POST /containers/create`
/// body and `Config` in inspect). Field names are docker's; unknown fields are ignored.
public struct ContainerConfig: Codable, Sendable, Equatable {
    public var Hostname: String?
    public var Domainname: String?
    public var User: String?
    public var AttachStdin: Bool?
    public var AttachStdout: Bool?
    public var AttachStderr: Bool?
    public var ExposedPorts: [String: EmptyJSON]?
    public var Tty: Bool?
    public var OpenStdin: Bool?
    public var StdinOnce: Bool?
    public var Env: [String]?
    public var Cmd: [String]?
    public var Image: String?
    public var Volumes: [String: EmptyJSON]?
    public var WorkingDir: String?
    public var Entrypoint: [String]?
    public var Labels: [String: String]?
    public var StopSignal: String?
    public var StopTimeout: Int?
    public var Healthcheck: HealthcheckConfig?
    public var HostConfig: HostConfig?
    public var NetworkingConfig: NetworkingConfigBody?

    public init() {}

    // Docker accepts `Cmd` and `Entrypoint` as a string or an array.
    enum CodingKeys: String, CodingKey {
        case Hostname, Domainname, User, AttachStdin, AttachStdout, AttachStderr, ExposedPorts, Tty, OpenStdin, StdinOnce, Env, Cmd, Image, Volumes, WorkingDir, Entrypoint, Labels, StopSignal, StopTimeout, Healthcheck, HostConfig, NetworkingConfig
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        Hostname = try c.decodeIfPresent(String.self, forKey: .Hostname)
        Domainname = try c.decodeIfPresent(String.self, forKey: .Domainname)
        User = try c.decodeIfPresent(String.self, forKey: .User)
        AttachStdin = try c.decodeIfPresent(Bool.self, forKey: .AttachStdin)
        AttachStdout = try c.decodeIfPresent(Bool.self, forKey: .AttachStdout)
        AttachStderr = try c.decodeIfPresent(Bool.self, forKey: .AttachStderr)
        ExposedPorts = try c.decodeIfPresent([String: EmptyJSON].self, forKey: .ExposedPorts)
        Tty = try c.decodeIfPresent(Bool.self, forKey: .Tty)
        OpenStdin = try c.decodeIfPresent(Bool.self, forKey: .OpenStdin)
        StdinOnce = try c.decodeIfPresent(Bool.self, forKey: .StdinOnce)
        Env = try c.decodeIfPresent([String].self, forKey: .Env)
        Cmd = try c.decodeStringOrArray(forKey: .Cmd)
        Image = try c.decodeIfPresent(String.self, forKey: .Image)
        Volumes = try c.decodeIfPresent([String: EmptyJSON].self, forKey: .Volumes)
        WorkingDir = try c.decodeIfPresent(String.self, forKey: .WorkingDir)
        Entrypoint = try c.decodeStringOrArray(forKey: .Entrypoint)
        Labels = try c.decodeIfPresent([String: String].self, forKey: .Labels)
        StopSignal = try c.decodeIfPresent(String.self, forKey: .StopSignal)
        StopTimeout = try c.decodeIfPresent(Int.self, forKey: .StopTimeout)
        Healthcheck = try c.decodeIfPresent(HealthcheckConfig.self, forKey: .Healthcheck)
        HostConfig = try c.decodeIfPresent(EngineAPI.HostConfig.self, forKey: .HostConfig)
        NetworkingConfig = try c.decodeIfPresent(NetworkingConfigBody.self, forKey: .NetworkingConfig)
    }
}

/// Host-side settings of a container (`HostConfig`), the subset Berth acts on plus what it
/// echoes back in inspect. Unknown fields are ignored.
public struct HostConfig: Codable, Sendable, Equatable {
    public var Binds: [String]?
    /// `--volumes-from CONTAINER[:ro|rw]`.
    public var VolumesFrom: [String]?
    public var NetworkMode: String?
    public var AutoRemove: Bool?
    public var CapAdd: [String]?
    public var CapDrop: [String]?
    public var Privileged: Bool?
    public var ReadonlyRootfs: Bool?
    public var SecurityOpt: [String]?
    public var Tmpfs: [String: String]?
    public var Memory: Int64?
    public var MemorySwap: Int64?
    public var MemoryReservation: Int64?
    /// -1 (docker's "unset") or 0–100.
    public var MemorySwappiness: Int64?
    public var OomKillDisable: Bool?
    public var CpusetCpus: String?
    public var CpusetMems: String?
    public var NanoCpus: Int64?
    public var CpuShares: Int64?
    public var CpuQuota: Int64?
    public var CpuPeriod: Int64?
    public var PidsLimit: Int64?
    public var Init: Bool?
    public var Runtime: String?
    public var ShmSize: Int64?
    public var Ulimits: [Ulimit]?
    public var RestartPolicy: RestartPolicy?
    public var Mounts: [MountSpec]?
    public var LogConfig: LogConfig?
    public var Dns: [String]?
    public var DnsSearch: [String]?
    public var DnsOptions: [String]?
    public var ExtraHosts: [String]?
    /// `--link target[:alias]` (inspect shows `/target:/name/alias`).
    public var Links: [String]?
    /// `-p`: host bindings by container port (`80/tcp`); a null list is allowed.
    public var PortBindings: [String: [PortBindingBody]?]?
    /// `-P`.
    public var PublishAllPorts: Bool?
    /// Initial terminal size `[rows, columns]` for a TTY (docker CLI ≥ 20.10 sends it).
    public var ConsoleSize: [UInt]?
    /// `private` (a cgroup namespace of its own) or `host`; empty means the daemon's default.
    public var CgroupnsMode: String?
    /// `host` (`--userns=host`) keeps the container out of the daemon's `--userns-remap`.
    public var UsernsMode: String?
    /// `host`, `container:<name|id>`, or empty (a namespace of its own); for IPC also
    /// `private`, `shareable` and `none` (no /dev/shm).
    public var PidMode: String?
    public var IpcMode: String?
    public var UTSMode: String?
    /// Supplementary groups (names from the container's /etc/group, or numbers).
    public var GroupAdd: [String]?
    public var Devices: [DeviceMapping]?
    /// Extra device cgroup rules (`c 1:3 rwm`).
    public var DeviceCgroupRules: [String]?
    public var Sysctls: [String: String]?
    public var OomScoreAdj: Int?
    public var Annotations: [String: String]?

    public init() {}
}

/// `NetworkingConfig` of a create body: the container's endpoint settings by network name.
public struct NetworkingConfigBody: Codable, Sendable, Equatable {
    public struct EndpointBody: Codable, Sendable, Equatable {
        /// Static addresses (`--ip`, `--ip6`).
        public struct IPAMBody: Codable, Sendable, Equatable {
            public var IPv4Address: String?
            public var IPv6Address: String?
        }
        public var Aliases: [String]?
        public var IPAMConfig: IPAMBody?
        public var Links: [String]?
    }
    public var EndpointsConfig: [String: EndpointBody]?
}

/// An entry of `HostConfig.PortBindings`.
public struct PortBindingBody: Codable, Sendable, Equatable {
    public var HostIp: String?
    public var HostPort: String?
}

/// `--device PATH_ON_HOST[:PATH_IN_CONTAINER][:PERMISSIONS]`.
public struct DeviceMapping: Codable, Sendable, Equatable {
    public var PathOnHost: String
    public var PathInContainer: String?
    public var CgroupPermissions: String?
}

public struct Ulimit: Codable, Sendable, Equatable {
    public var Name: String
    public var Soft: Int64
    public var Hard: Int64
}

public struct RestartPolicy: Codable, Sendable, Equatable {
    public var Name: String?
    public var MaximumRetryCount: Int?
}

/// An entry of `HostConfig.Mounts` (`--mount`, docker-py).
public struct MountSpec: Codable, Sendable, Equatable {
    public var `Type`: String?
    public var Source: String?
    public var Target: String
    public var ReadOnly: Bool?
    public var BindOptions: BindOptions?
    public var VolumeOptions: VolumeOptions?
    public var TmpfsOptions: TmpfsOptions?

    public struct BindOptions: Codable, Sendable, Equatable {
        public var Propagation: String?
        public var NonRecursive: Bool?
        public var CreateMountpoint: Bool?
    }

    public struct VolumeOptions: Codable, Sendable, Equatable {
        public var NoCopy: Bool?
        public var Labels: [String: String]?
        public var DriverConfig: DriverConfig?
        public var Subpath: String?
    }

    public struct DriverConfig: Codable, Sendable, Equatable {
        public var Name: String?
        public var Options: [String: String]?
    }

    public struct TmpfsOptions: Codable, Sendable, Equatable {
        public var SizeBytes: Int64?
        public var Mode: UInt32?
    }
}

public struct LogConfig: Codable, Sendable, Equatable {
    public var `Type`: String?
    public var Config: [String: String]?

    public init(Type: String?, Config: [String: String]?) {
        self.Type = Type
        self.Config = Config
    }
}

/// `{}` in docker's JSON maps such as ExposedPorts.
public struct EmptyJSON: Codable, Sendable, Equatable {
    public init() {}
}

extension KeyedDecodingContainer {
    /// A value docker accepts as a string or an array of strings (`Cmd`, `Entrypoint`): the
    /// array, a string as a one-element array, nil when absent.
    func decodeStringOrArray(forKey key: Key) throws -> [String]? {
        if let array = try? decodeIfPresent([String].self, forKey: key) { return array }
        if let string = try decodeIfPresent(String.self, forKey: key) { return [string] }
        return nil
    }
}
