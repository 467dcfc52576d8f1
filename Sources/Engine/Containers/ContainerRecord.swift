import BerthSystem
import OCI

/// Everything the engine persists about one container, in `containers/<id>/container.json`:
/// its spec (Berth's own terms, not docker's JSON), what create resolved, and its state.
public struct ContainerRecord: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var created: Timestamp
    /// The image ID the container was created from.
    public var image: Digest
    /// The image as the user named it.
    public var imageName: String
    /// What to run and how, completed with the image's defaults at create.
    public var spec: ContainerSpec
    /// The command actually run: entrypoint + cmd after merging with the image.
    public var path: String
    public var args: [String]
    public var state: ContainerState
    public var restartCount: Int
    public var runtime: String
    /// Chain ID of the image's top layer (nil for an image without layers).
    public var parentChainID: Digest?
    /// The user namespace the container runs in (`berthd --userns-remap`), fixed at create;
    /// nil for the host's.
    public var userNamespace: IDMap?
    /// Binds, volumes and tmpfs mounts resolved at create.
    public var mounts: [MountPoint] = []
    /// The container's bridge-network endpoints while it runs, in the order it joined them
    /// (none with `none`, `host` or `container:<id>`; none in records written before a
    /// container could have several).
    public var endpoints: [NetworkEndpoint] {
        get { storedEndpoints ?? [] }
        set { storedEndpoints = newValue }
    }
    private var storedEndpoints: [NetworkEndpoint]? = nil
    /// The pinned network namespace of the current run of a bridge-network container (kept
    /// while it runs, even with every network disconnected).
    public var networkNamespace: String? = nil
    /// Set by `stop` and `kill`, cleared by `start`: a container the user stopped is not
    /// restarted by its policy (docker's `HasBeenManuallyStopped`).
    public var manuallyStopped: Bool? = nil

    enum CodingKeys: String, CodingKey {
        case id, name, created, image, imageName, spec, path, args, state, restartCount, runtime, parentChainID, userNamespace, mounts
        case storedEndpoints = "endpoints", networkNamespace, manuallyStopped
    }

    /// A record of a container as create leaves it (no restarts, not stopped by the user).
    public init(id: String, name: String, created: Timestamp, image: Digest, imageName: String, spec: ContainerSpec, path: String, args: [String],
                state: ContainerState, restartCount: Int, runtime: String, parentChainID: Digest?, userNamespace: IDMap? = nil, mounts: [MountPoint] = []) {
        self.id = id
        self.name = name
        self.created = created
        self.image = image
        self.imageName = imageName
        self.spec = spec
        self.path = path
        self.args = args
        self.state = state
        self.restartCount = restartCount
        self.runtime = runtime
        self.parentChainID = parentChainID
        self.userNamespace = userNamespace
        self.mounts = mounts
    }

    /// Names of the volumes the container uses.
    public var volumeNames: [String] { mounts.compactMap(\.name) }

    /// The first 12 hex digits, docker's short ID.
    public var shortID: String { String(id.prefix(12)) }
}

/// A container's life-cycle state, as docker's `State` object.
public struct ContainerState: Codable, Sendable, Equatable {
    /// `created`, `running`, `exited`, `removing` or `dead`.
    public var status: Status
    public var pid: Int32
    public var exitCode: Int32
    public var error: String
    public var startedAt: Timestamp
    public var finishedAt: Timestamp
    public var oomKilled: Bool
    /// PID of the container's monitor while it runs.
    public var monitorPID: Int32
    /// Set (and persisted) while `start` launches the monitor: a daemon restarted in that
    /// window looks in the monitor's directory to learn whether the container came up.
    public var startPending: Bool?
    /// True while the container runs frozen (`docker pause`).
    public var paused: Bool?
    /// True while a restart by policy waits for its back-off (docker's `restarting`).
    public var restarting: Bool? = nil
    /// The health check's verdict, for a container that has one.
    public var health: HealthState? = nil

    public enum Status: String, Codable, Sendable {
        case created, running, exited, removing, dead
    }

    public static let created = ContainerState(status: .created, pid: 0, exitCode: 0, error: "", startedAt: .zero, finishedAt: .zero, oomKilled: false, monitorPID: 0)

    public var isRunning: Bool { status == .running }
    /// True when running frozen.
    public var isPaused: Bool { status == .running && paused == true }
    /// True while a restart by policy is pending.
    public var isRestarting: Bool { status == .exited && restarting == true }
    /// docker's state word: `paused` for a paused running container, `restarting` while a
    /// restart by policy is pending, else the status.
    public var word: String { isPaused ? "paused" : isRestarting ? "restarting" : status.rawValue }
}
