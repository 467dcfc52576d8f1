import OCI

/// What the engine runs for one container, in its own terms: what to run, its storage,
/// resources, security, namespaces, network and policies. The API translates docker's create
/// body into it (`EngineAPI`'s `DockerContainerTranslation`), `ContainerService.create` completes it
/// with the image's defaults, and the container's record persists it. Values are checked when
/// the container is created; a spec in a record has passed those checks.
public struct ContainerSpec: Codable, Sendable, Equatable {
    /// The image as the user named it.
    public var image: String = ""
    public var process = ProcessSpec()
    /// Empty: the container's short ID (or the host's name with the host's UTS namespace).
    public var hostname = ""
    public var domainname = ""
    public var labels: [String: String] = [:]
    /// OCI annotations passed to the runtime (`--annotation`).
    public var annotations: [String: String] = [:]
    /// The health check (the image's, merged with the request's); nil: none.
    public var healthcheck: HealthcheckConfig?
    /// The signal `stop` sends first (name or number); empty: `SIGTERM`.
    public var stopSignal = ""
    /// Seconds `stop` waits before `SIGKILL`; nil: 10.
    public var stopTimeout: Int?
    /// Ports the container declares (`80/tcp`), sorted.
    public var exposedPorts: [String] = []
    public var storage = StorageSpec()
    public var resources = ResourceSpec()
    public var security = SecuritySpec()
    public var namespaces = NamespaceSpec()
    public var network = NetworkSpec()
    public var restartPolicy: RestartPolicyKind = .no
    public var log = LogSpec()
    /// Removed once it stops (`--rm`).
    public var autoRemove = false
    /// Runs `docker-init` as PID 1 (`--init`).
    public var runsInit = false
    /// The OCI runtime by name (`berth`, `runc`); empty: the daemon's default.
    public var runtime = ""
    /// Initial terminal size for a TTY.
    public var consoleSize: TerminalSize?

    public init() {}
}

/// The container's main process.
public struct ProcessSpec: Codable, Sendable, Equatable {
    /// nil: the image's (an empty list resets it, as docker's `--entrypoint ""`).
    public var entrypoint: [String]?
    /// nil: the image's.
    public var cmd: [String]?
    /// `KEY=VALUE` entries (the image's first, then the request's).
    public var env: [String] = []
    /// `user[:group]` by name or number; empty: root.
    public var user = ""
    /// Empty: `/`.
    public var workingDir = ""
    public var tty = false
    public var openStdin = false
    public var stdinOnce = false
    /// The streams the creator meant to attach (reported back, not acted on).
    public var attachStdin = false
    public var attachStdout = false
    public var attachStderr = false

    public init() {}

    /// The command run: entrypoint then cmd.
    public var command: [String] { (entrypoint ?? []) + (cmd ?? []) }
}

/// Rows and columns of a terminal.
public struct TerminalSize: Codable, Sendable, Equatable {
    public var rows: UInt
    public var columns: UInt

    public init(rows: UInt, columns: UInt) {
        self.rows = rows
        self.columns = columns
    }
}

/// Mounts and the root file system.
public struct StorageSpec: Codable, Sendable, Equatable {
    /// `-v` entries as the user wrote them (`[SOURCE:]DESTINATION[:OPTIONS]`), checked.
    public var binds: [String] = []
    /// `--mount` entries, parsed and checked.
    public var mounts: [MountRequest] = []
    /// `--tmpfs PATH[:OPTIONS]`: options by path.
    public var tmpfs: [String: String] = [:]
    /// `--volumes-from CONTAINER[:ro|rw]`.
    public var volumesFrom: [String] = []
    /// Paths that get an anonymous volume unless mounted otherwise (the request's `VOLUME`s;
    /// the image's are added at create).
    public var volumes: [String] = []
    public var readOnlyRootfs = false

    public init() {}
}

/// cgroup limits and process limits. nil or zero: not limited (docker's zero values).
public struct ResourceSpec: Codable, Sendable, Equatable {
    public var memory: Int64?
    /// Memory plus swap; -1: unlimited swap.
    public var memorySwap: Int64?
    public var memoryReservation: Int64?
    /// -1 (unset) or 0–100.
    public var memorySwappiness: Int64?
    public var oomKillDisable = false
    public var nanoCpus: Int64?
    public var cpuShares: Int64?
    public var cpuQuota: Int64?
    public var cpuPeriod: Int64?
    public var cpusetCpus = ""
    public var cpusetMems = ""
    public var pidsLimit: Int64?
    /// Bytes of `/dev/shm`; nil: 64 MiB.
    public var shmSize: Int64?
    public var ulimits: [ProcessLimit] = []

    public init() {}
}

/// A process resource limit (`--ulimit nofile=1024:2048`); `name` without `RLIMIT_`.
public struct ProcessLimit: Codable, Sendable, Equatable {
    public var name: String
    public var soft: Int64
    public var hard: Int64

    public init(name: String, soft: Int64, hard: Int64) {
        self.name = name
        self.soft = soft
        self.hard = hard
    }
}

/// Privileges, devices and kernel settings.
public struct SecuritySpec: Codable, Sendable, Equatable {
    public var privileged = false
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    /// `--security-opt` entries (`seccomp=…`, `no-new-privileges`, …).
    public var securityOpt: [String] = []
    /// Supplementary groups by name or number.
    public var groupAdd: [String] = []
    public var devices: [DeviceRequest] = []
    /// Extra device cgroup rules (`c 1:3 rwm`).
    public var deviceCgroupRules: [String] = []
    public var sysctls: [String: String] = [:]
    public var oomScoreAdj = 0

    public init() {}
}

/// A host device to create in the container (`--device`).
public struct DeviceRequest: Codable, Sendable, Equatable {
    public var pathOnHost: String
    /// Empty: the same path as on the host.
    public var pathInContainer: String
    /// Empty: `rwm`.
    public var permissions: String

    public init(pathOnHost: String, pathInContainer: String = "", permissions: String = "") {
        self.pathOnHost = pathOnHost
        self.pathInContainer = pathInContainer
        self.permissions = permissions
    }
}

/// Which namespaces the container shares. Each mode is docker's word: empty (its own),
/// `private`, `host`, `container:<id|name>`; IPC also `shareable` and `none`.
public struct NamespaceSpec: Codable, Sendable, Equatable {
    public var pid = ""
    public var ipc = ""
    public var uts = ""
    /// `private` or `host`; filled in with the daemon's default at create.
    public var cgroup = ""
    /// `host` keeps the container out of the daemon's `--userns-remap`.
    public var user = ""

    public init() {}
}

/// The container's network.
public struct NetworkSpec: Codable, Sendable, Equatable {
    /// `none`, `host` or the name of a bridge network; filled in at create.
    public var mode = ""
    public var dns: [String] = []
    /// `--dns-search` domains; empty: the host's.
    public var dnsSearch: [String] = []
    /// `--dns-option` options; empty: the host's.
    public var dnsOptions: [String] = []
    /// `host:ip` entries for `/etc/hosts`.
    public var extraHosts: [String] = []
    /// Ports to publish (`-p`), as given.
    public var portBindings: [PortBinding] = []
    /// Publish every exposed port on a free host port (`-P`).
    public var publishAllPorts = false
    /// `--link target[:alias]`, as given.
    public var links: [String] = []
    /// The bridge networks the container joins at start, the one `mode` names first, then
    /// those connected later (`network connect`); empty with `none`, `host` and
    /// `container:<id>`.
    public var joins: [NetworkJoin] = []

    /// Reads records written before containers could join several networks (no `links`, no
    /// `joins`, the aliases of the one network the mode names) as joining that network.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decode(String.self, forKey: .mode)
        dns = try c.decode([String].self, forKey: .dns)
        dnsSearch = try c.decode([String].self, forKey: .dnsSearch)
        dnsOptions = try c.decode([String].self, forKey: .dnsOptions)
        extraHosts = try c.decode([String].self, forKey: .extraHosts)
        portBindings = try c.decode([PortBinding].self, forKey: .portBindings)
        publishAllPorts = try c.decode(Bool.self, forKey: .publishAllPorts)
        links = try c.decodeIfPresent([String].self, forKey: .links) ?? []
        if let joins = try c.decodeIfPresent([NetworkJoin].self, forKey: .joins) {
            self.joins = joins
        } else if isBridged {
            let aliases = try decoder.container(keyedBy: LegacyKeys.self).decodeIfPresent([String].self, forKey: .aliases)
            joins = [NetworkJoin(network: mode, aliases: aliases ?? [])]
        }
    }

    private enum LegacyKeys: String, CodingKey {
        case aliases
    }

    public init() {}

    /// Whether the container uses the host's network namespace.
    public var isHost: Bool { mode == "host" }

    /// The container whose network namespace this one shares (`container:<id>`), if any.
    public var sharedContainer: String? {
        mode.hasPrefix("container:") ? String(mode.dropFirst("container:".count)) : nil
    }

    /// Whether the container joins bridge networks (rather than `none`, `host` or another
    /// container's namespace).
    public var isBridged: Bool { !["none", "host", ""].contains(mode) && sharedContainer == nil }
}

/// One bridge network a container joins and what it asks of it there (docker's endpoint
/// settings).
public struct NetworkJoin: Codable, Sendable, Equatable {
    /// The network's name.
    public var network: String
    /// More names the container answers to on this network (`--network-alias`, compose's
    /// service names).
    public var aliases: [String] = []
    /// A static address (`--ip`); nil: the first free one at each start.
    public var address: IPv4Address?
    /// A static IPv6 address (`--ip6`) on a dual-stack network.
    public var address6: IPv6Address?

    public init(network: String, aliases: [String] = [], address: IPv4Address? = nil, address6: IPv6Address? = nil) {
        self.network = network
        self.aliases = aliases
        self.address = address
        self.address6 = address6
    }
}

/// The log driver and its options, as given (checked by `LogSettings`).
public struct LogSpec: Codable, Sendable, Equatable {
    /// Filled in with `json-file` at create when empty.
    public var driver = ""
    public var options: [String: String] = [:]

    public init(driver: String = "", options: [String: String] = [:]) {
        self.driver = driver
        self.options = options
    }
}
