/// The OCI runtime spec's `config.json` (runtime-spec config.md and config-linux.md), the part
/// Berth writes and its runtime reads. Field names are the spec's; unknown fields are ignored on
/// decode, so a bundle made by other tools (`runc spec`) still loads.
public struct RuntimeSpec: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    public var hostname: String?
    public var mounts: [Mount]?
    public var hooks: Hooks?
    public var annotations: [String: String]?
    public var linux: Linux?

    public init(process: Process? = nil, root: Root? = nil, hostname: String? = nil, mounts: [Mount]? = nil, linux: Linux? = nil, annotations: [String: String]? = nil) {
        self.ociVersion = "1.0.2"
        self.process = process
        self.root = root
        self.hostname = hostname
        self.mounts = mounts
        self.linux = linux
        self.annotations = annotations
    }

    /// The container's process (config.md, "process").
    public struct Process: Codable, Sendable, Equatable {
        public var terminal: Bool?
        public var consoleSize: ConsoleSize?
        public var user: User
        public var args: [String]
        public var env: [String]?
        public var cwd: String
        public var capabilities: Capabilities?
        public var rlimits: [Rlimit]?
        public var noNewPrivileges: Bool?
        public var oomScoreAdj: Int?

        public init(terminal: Bool? = nil, user: User = User(), args: [String], env: [String]? = nil, cwd: String = "/", capabilities: Capabilities? = nil, rlimits: [Rlimit]? = nil, noNewPrivileges: Bool? = nil) {
            self.terminal = terminal
            self.user = user
            self.args = args
            self.env = env
            self.cwd = cwd
            self.capabilities = capabilities
            self.rlimits = rlimits
            self.noNewPrivileges = noNewPrivileges
        }
    }

    public struct ConsoleSize: Codable, Sendable, Equatable {
        public var height: UInt
        public var width: UInt
        public init(height: UInt, width: UInt) { self.height = height; self.width = width }
    }

    public struct User: Codable, Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
        public var umask: UInt32?
        public var additionalGids: [UInt32]?
        public init(uid: UInt32 = 0, gid: UInt32 = 0, additionalGids: [UInt32]? = nil) {
            self.uid = uid
            self.gid = gid
            self.additionalGids = additionalGids
        }
    }

    /// Capability sets by name (`CAP_CHOWN`, …).
    public struct Capabilities: Codable, Sendable, Equatable {
        public var bounding: [String]?
        public var effective: [String]?
        public var inheritable: [String]?
        public var permitted: [String]?
        public var ambient: [String]?
        public init(bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil, permitted: [String]? = nil, ambient: [String]? = nil) {
            self.bounding = bounding
            self.effective = effective
            self.inheritable = inheritable
            self.permitted = permitted
            self.ambient = ambient
        }
    }

    public struct Rlimit: Codable, Sendable, Equatable {
        public var type: String
        public var hard: UInt64
        public var soft: UInt64
        public init(type: String, hard: UInt64, soft: UInt64) { self.type = type; self.hard = hard; self.soft = soft }
    }

    public struct Root: Codable, Sendable, Equatable {
        public var path: String
        public var readonly: Bool?
        public init(path: String, readonly: Bool? = nil) { self.path = path; self.readonly = readonly }
    }

    public struct Mount: Codable, Sendable, Equatable {
        public var destination: String
        public var type: String?
        public var source: String?
        public var options: [String]?
        public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
        }
    }

    public struct Hooks: Codable, Sendable, Equatable {
        public var prestart: [Hook]?
        public var createRuntime: [Hook]?
        public var createContainer: [Hook]?
        public var startContainer: [Hook]?
        public var poststart: [Hook]?
        public var poststop: [Hook]?
    }

    public struct Hook: Codable, Sendable, Equatable {
        public var path: String
        public var args: [String]?
        public var env: [String]?
        public var timeout: Int?
    }

    /// Linux-specific configuration (config-linux.md).
    public struct Linux: Codable, Sendable, Equatable {
        public var namespaces: [Namespace]?
        public var uidMappings: [IDMapping]?
        public var gidMappings: [IDMapping]?
        public var devices: [Device]?
        public var cgroupsPath: String?
        public var resources: Resources?
        public var sysctl: [String: String]?
        public var maskedPaths: [String]?
        public var readonlyPaths: [String]?
        public var rootfsPropagation: String?
        public var seccomp: Seccomp?

        public init(namespaces: [Namespace]? = nil, devices: [Device]? = nil, cgroupsPath: String? = nil, resources: Resources? = nil, maskedPaths: [String]? = nil, readonlyPaths: [String]? = nil) {
            self.namespaces = namespaces
            self.devices = devices
            self.cgroupsPath = cgroupsPath
            self.resources = resources
            self.maskedPaths = maskedPaths
            self.readonlyPaths = readonlyPaths
        }
    }

    /// `type` is one of pid, network, mount, ipc, uts, user, cgroup; `path` joins an existing one.
    public struct Namespace: Codable, Sendable, Equatable {
        public var type: String
        public var path: String?
        public init(type: String, path: String? = nil) { self.type = type; self.path = path }
    }

    public struct IDMapping: Codable, Sendable, Hashable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32
        public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            self.containerID = containerID
            self.hostID = hostID
            self.size = size
        }
    }

    public struct Device: Codable, Sendable, Equatable {
        public var type: String
        public var path: String
        public var major: Int64?
        public var minor: Int64?
        public var fileMode: UInt32?
        public var uid: UInt32?
        public var gid: UInt32?
        public init(type: String, path: String, major: Int64? = nil, minor: Int64? = nil, fileMode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil) {
            self.type = type
            self.path = path
            self.major = major
            self.minor = minor
            self.fileMode = fileMode
            self.uid = uid
            self.gid = gid
        }
    }

    public struct Resources: Codable, Sendable, Equatable {
        public var devices: [DeviceRule]?
        public var memory: Memory?
        public var cpu: CPU?
        public var pids: Pids?
        public init(devices: [DeviceRule]? = nil, memory: Memory? = nil, cpu: CPU? = nil, pids: Pids? = nil) {
            self.devices = devices
            self.memory = memory
            self.cpu = cpu
            self.pids = pids
        }
    }

    public struct DeviceRule: Codable, Sendable, Equatable {
        public var allow: Bool
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        public var access: String?
        public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = access
        }
    }

    public struct Memory: Codable, Sendable, Equatable {
        public var limit: Int64?
        public var reservation: Int64?
        public var swap: Int64?
        /// 0–100, the kernel's memory.swappiness for this cgroup (cgroup v1 only).
        public var swappiness: UInt64?
        /// Processes over the limit wait instead of being killed (cgroup v1's oom_control).
        public var disableOOMKiller: Bool?
        public init(limit: Int64? = nil, swap: Int64? = nil) { self.limit = limit; self.swap = swap }
    }

    public struct CPU: Codable, Sendable, Equatable {
        public var shares: UInt64?
        public var quota: Int64?
        public var period: UInt64?
        public var cpus: String?
        public init(shares: UInt64? = nil, quota: Int64? = nil, period: UInt64? = nil) { self.shares = shares; self.quota = quota; self.period = period }
    }

    public struct Pids: Codable, Sendable, Equatable {
        public var limit: Int64
        public init(limit: Int64) { self.limit = limit }
    }

    public struct Seccomp: Codable, Sendable, Equatable {
        public var defaultAction: String
        public var defaultErrnoRet: UInt32?
        public var architectures: [String]?
        public var syscalls: [SyscallRule]?
        public init(defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil, syscalls: [SyscallRule]? = nil) {
            self.defaultAction = defaultAction
            self.defaultErrnoRet = defaultErrnoRet
            self.architectures = architectures
            self.syscalls = syscalls
        }
    }

    public struct SyscallRule: Codable, Sendable, Equatable {
        public var names: [String]
        public var action: String
        public var errnoRet: UInt32?
        public var args: [SyscallArg]?
        public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [SyscallArg]? = nil) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
        }
    }

    public struct SyscallArg: Codable, Sendable, Equatable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: String
        public init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: String) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }
}

/// The state of a container as the OCI runtime CLI reports it (runtime.md, "State").
public struct RuntimeState: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    /// `creating`, `created`, `running` or `stopped`.
    public var status: String
    public var pid: Int32?
    public var bundle: String
    public var annotations: [String: String]?

    public init(id: String, status: String, pid: Int32?, bundle: String, annotations: [String: String]? = nil) {
        self.ociVersion = "1.0.2"
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
    }
}
