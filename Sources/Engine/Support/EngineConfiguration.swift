import BerthSystem
import Glibc
import Registry

/// Where the engine keeps its state and which programs it runs. Built once by `berthd` from its
/// flags; every service receives it in its initialiser.
public struct EngineConfiguration: Sendable {
    /// Persistent data root (`/var/lib/berth`): content, snapshots, metadata, containers.
    public var root: String
    /// Runtime state root on tmpfs (`/run/berth`): runtime state directories.
    public var execRoot: String
    /// OCI runtimes by name; `berth` (`builtinRuntimeName`) is Berth's own runtime.
    public var runtimes: [String: String]
    /// The name of Berth's own runtime. Its containers are created, started and deleted by the
    /// monitor in-process (the same code as `berth-runtime`); the path in `runtimes` serves
    /// `exec`, `kill`, `state`, `pause` and the like.
    public static let builtinRuntimeName = "berth"
    /// The runtime used when a container does not name one.
    public var defaultRuntime: String
    /// Path of the `berth-monitor` executable.
    public var monitorPath: String
    /// Registries spoken to over plain HTTP (`host[:port]` or IPv4 CIDR), besides localhost and
    /// 127.0.0.0/8 (dockerd's `--insecure-registry`).
    public var insecureRegistries: [String]
    /// Extra certificate authorities for registries: `<directory>/<host[:port]>/*.crt`, as in
    /// docker's `/etc/docker/certs.d`.
    public var registryCertificatesDirectory: String?
    /// `--userns-remap`: the user namespace containers run in unless they ask for `--userns=host`.
    public var userNamespaceRemap: UserNamespaceRemap?
    /// The Linux bridge of the default `bridge` network (`berthd --bridge`), named when the
    /// network table is first made.
    public var defaultBridgeName: String
    /// The default bridge network's gateway and subnet (`berthd --bip`); nil: picked from
    /// `defaultAddressPools` when the table is first made.
    public var defaultBridgeAddress: BridgeAddress?
    /// Where subnets the daemon picks come from (`berthd --default-address-pool`).
    public var defaultAddressPools: AddressPoolSettings
    /// The largest build context (as sent) unpacked into a tmpfs of its build's own rather than
    /// on disk (`berthd --build-context-memory`; 0: always on disk).
    public var buildContextMemoryLimit: Int64 = BuildContextDirectory.defaultMemoryLimit
    /// IPv6 on the default bridge network (`berthd --ipv6`, `--fixed-cidr-v6`).
    public var defaultBridgeIPv6: DefaultBridgeIPv6 = .off

    public init(root: String, execRoot: String, runtimes: [String: String], defaultRuntime: String, monitorPath: String,
                insecureRegistries: [String] = [], registryCertificatesDirectory: String? = nil,
                userNamespaceRemap: UserNamespaceRemap? = nil, defaultBridgeName: String = "berth0",
                defaultBridgeAddress: BridgeAddress? = nil, defaultAddressPools: AddressPoolSettings = .docker) {
        self.defaultBridgeName = defaultBridgeName
        self.defaultBridgeAddress = defaultBridgeAddress
        self.defaultAddressPools = defaultAddressPools
        self.root = root
        self.execRoot = execRoot
        self.runtimes = runtimes
        self.defaultRuntime = defaultRuntime
        self.monitorPath = monitorPath
        self.insecureRegistries = insecureRegistries
        self.registryCertificatesDirectory = registryCertificatesDirectory
        self.userNamespaceRemap = userNamespaceRemap
    }

    /// The registry settings for clients.
    public var registryAccess: RegistryAccess {
        RegistryAccess(insecureRegistries: insecureRegistries, certificatesDirectory: registryCertificatesDirectory)
    }

    public var contentRoot: String { root + "/content" }
    public var snapshotsRoot: String { root + "/snapshots" }
    public var metadataRoot: String { root + "/metadata" }
    public var containersRoot: String { root + "/containers" }
    public var temporaryRoot: String { root + "/tmp" }
    /// Where removed containers' directories wait for their background deletion (`Trash`).
    public var trashRoot: String { root + "/trash" }
    /// Named volumes, `<name>/_data` each (`VolumeService`).
    public var volumesRoot: String { root + "/volumes" }
    /// Directories of builds' `RUN --mount=type=cache` mounts, by cache ID.
    public var buildCacheMountsRoot: String { root + "/build-mounts" }
    /// The network table (`networks.json`).
    public var networksRoot: String { root + "/networks" }
    /// Containers' pinned network namespaces.
    public var networkNamespacesRoot: String { execRoot + "/netns" }
    /// Read-only copies of berth-monitor and berth-runtime (`ProtectedBinaries`).
    public var protectedBinariesRoot: String { root + "/bin" }
    /// The same for their directories under `execRoot`.
    public var execTrashRoot: String { execRoot + "/trash" }

    /// The state directory handed to a runtime with `--root`.
    public func runtimeRoot(for runtime: String) -> String { execRoot + "/runtime-" + runtime }

    /// Creates the directory layout (0700: layers may hold setuid files host users must not reach).
    /// Containers in a user namespace must reach their own directory (rootfs mount point, etc
    /// files), so `root` and `containersRoot` are 0711 for them — searchable, not listable —
    /// and each remapped container's directory is 0710 with its root's group.
    public func prepareDirectories() throws {
        for dir in [root, execRoot, contentRoot, snapshotsRoot, metadataRoot, containersRoot, temporaryRoot, trashRoot, execTrashRoot] {
            try FileSystem.makeDirectories(dir, mode: 0o700)
        }
        let searchable: mode_t = userNamespaceRemap == nil ? 0o700 : 0o711
        for dir in [root, containersRoot] where chmod(dir, searchable) != 0 {
            throw EngineError.failure("cannot set the mode of \(dir): \(String(cString: strerror(errno)))")
        }
        if userNamespaceRemap != nil { try checkRootIsReachable() }
    }

    /// Fails (with dockerd's advice) when a directory above `root` is not searchable by
    /// others: a remapped container's root could not reach its rootfs, and every start would fail.
    private func checkRootIsReachable() throws {
        var dir = FileSystem.parent(of: root)
        while dir != "/" && !dir.isEmpty {
            var st = stat()
            guard stat(dir, &st) == 0 else { throw EngineError.failure("cannot inspect \(dir): \(String(cString: strerror(errno)))") }
            if st.st_mode & S_IXOTH == 0 {
                throw EngineError.failure("a subdirectory in your graphroot path (\(root)) restricts access to the remapped root uid/gid: \(dir) lacks 'o+x'; please fix by allowing 'o+x' permissions on existing directories")
            }
            dir = FileSystem.parent(of: dir)
        }
    }
}
