import BerthSystem
import Glibc
import OCI
import Snapshots

/// The containers of this engine: their records, their life cycle and the processes that run
/// them. Guarantees: every state change is persisted (atomically) before it is reported; a
/// container's record is never lost because the daemon or a monitor died; the reported state
/// follows what the monitor recorded, never a guess.
public actor ContainerService {
    let configuration: EngineConfiguration
    let images: ImageService
    let snapshots: OverlaySnapshotter
    let volumes: VolumeService
    /// Where container events go (`docker events`, the restart supervisor).
    public nonisolated let events: EventBus
    let store: ContainerStoreFile
    /// Monitors, exit events and runtime calls.
    let tasks: ContainerTasks
    /// Bridge networks' endpoints; nil: containers run with `none` or `host` only.
    let attachments: NetworkAttachments?
    let cgroupLock = CgroupLockPrimer()
    var containers: [String: ContainerRecord] = [:]
    var waiters: [String: [Waiter]] = [:]
    var attachWaiters: [String: [CheckedContinuation<Void, Error>]] = [:]
    var execs: [String: ExecRecord] = [:]
    var execWaiters: [String: [CheckedContinuation<Void, Never>]] = [:]
    var nextToken: UInt64 = 0
    /// Containers with an operation (start, stop, restart, commit, remove) in progress, each
    /// with the callers waiting for their turn, in order.
    var operationQueues: [String: [CheckedContinuation<Void, Never>]] = [:]
    /// User namespaces for idmapped layers, one per mapping in use, made on first need.
    var layerIDMappings: [IDMap: LayerIDMapping] = [:]
    /// Problems found while loading state, reported by `berthd` at start-up.
    public internal(set) var startupProblems: [String] = []

    public init(configuration: EngineConfiguration, images: ImageService, snapshots: OverlaySnapshotter, volumes: VolumeService, events: EventBus,
                attachments: NetworkAttachments? = nil) {
        self.init(configuration: configuration, images: images, snapshots: snapshots, volumes: volumes, events: events,
                  tasks: RuntimeTasks(configuration: configuration), attachments: attachments)
    }

    /// A service acting through `tasks` (a fake in tests).
    init(configuration: EngineConfiguration, images: ImageService, snapshots: OverlaySnapshotter, volumes: VolumeService, events: EventBus,
         tasks: ContainerTasks, attachments: NetworkAttachments? = nil) {
        self.tasks = tasks
        self.attachments = attachments
        self.events = events
        self.configuration = configuration
        self.images = images
        self.snapshots = snapshots
        self.volumes = volumes
        self.store = ContainerStoreFile(root: configuration.containersRoot)
    }

    /// The idmapped-layer namespace for `map`, made once and kept while the daemon runs.
    func layerIDMapping(_ map: IDMap) throws -> LayerIDMapping {
        if let existing = layerIDMappings[map] { return existing }
        let made = try LayerIDMapping(map: map)
        layerIDMappings[map] = made
        return made
    }

    // MARK: Lookup

    /// Finds a container by full ID, name (with or without `/`) or unique ID prefix.
    public func resolve(_ reference: String) throws -> ContainerRecord {
        if let record = containers[reference] { return record }
        let name = reference.hasPrefix("/") ? String(reference.dropFirst()) : reference
        if let record = containers.values.first(where: { $0.name == name }) { return record }
        let matches = containers.values.filter { $0.id.hasPrefix(reference) }
        if matches.count == 1, !reference.isEmpty { return matches[0] }
        if matches.count > 1 { throw EngineError.invalidParameter("multiple IDs found with provided prefix: \(reference)") }
        throw EngineError.noSuchContainer(reference)
    }

    /// What `inspect` shows, in one call: the record, its directory and its execs' IDs.
    public func inspect(_ reference: String) throws -> (record: ContainerRecord, directory: String, execIDs: [String]) {
        let record = try resolve(reference)
        return (record, directory(of: record.id), execIDs(of: record.id))
    }

    /// All containers (only running and restarting ones unless `all`), newest first.
    public func list(all: Bool) -> [ContainerRecord] {
        let chosen = containers.values.filter { all || $0.state.isRunning || $0.state.isRestarting }
        // Positions are sorted, not records: moving a record copies every field of its spec.
        return chosen.indices.sorted { chosen[$0].created > chosen[$1].created }.map { chosen[$0] }
    }

    /// The ID of a container using image `id`, if any.
    public func user(ofImage id: Digest) -> String? {
        containers.values.first { $0.image == id }?.id
    }

    /// Host path of a container's directory (logs, hostname, hosts, resolv.conf).
    public func directory(of id: String) -> String { store.directory(of: id) }

    /// Path of the container's json-file log (persistent, in the container's directory).
    public func logPath(of id: String) -> String { directory(of: id) + "/container-json.log" }

    /// The container's log files, oldest first (rotated ones, then the current); nil when its
    /// log driver keeps nothing to read (docker's "does not support reading").
    public func logFiles(of reference: String) throws -> [String]? {
        let record = try resolve(reference)
        // Checked at create; a record from before a driver existed reads as json-file.
        let settings = try? LogSettings(record.spec.log)
        guard settings?.driver != LogSettings.Driver.none else { return nil }
        let current = logPath(of: record.id)
        return stride(from: (settings?.maxFiles ?? 1) - 1, to: 0, by: -1).map { "\(current).\($0)" } + [current]
    }

    /// The monitor's working directory: on the runtime tmpfs and short, because it holds Unix
    /// sockets, whose paths are limited to 107 bytes. Its `container-json.log` is a symlink to
    /// the persistent log.
    func monitorDirectory(of id: String) -> String { configuration.execRoot + "/m/" + id.prefix(16) }

    // MARK: Create

    /// `docker create`: completes `requested` with the image's defaults, checks it, prepares the
    /// container's writable layer and records it. Returns the new ID.
    public func create(name requestedName: String?, spec requested: ContainerSpec) async throws -> String {
        guard !requested.image.isEmpty else {
            throw EngineError.invalidParameter("config must name an image")
        }
        // `run` starts what it creates a few milliseconds later.
        cgroupLock.prime()
        let image = try await images.resolve(requested.image)
        let imageConfig = try await images.config(of: image)
        return try await create(name: requestedName, spec: requested, base: ContainerBase(
            image: image.id, defaults: imageConfig.config ?? ContainerDefaults(), chainID: try await images.topChainID(of: image)))
    }

    /// What a container is made from: the image it names (its ID) with its defaults, and the
    /// layer chain its root file system is prepared over (nil: an empty root). A build step's
    /// container runs over a chain that no image records yet.
    struct ContainerBase {
        var image: Digest
        var defaults: ContainerDefaults
        var chainID: Digest?
    }

    /// Creates a container over `base` (see `create(name:spec:)`).
    func create(name requestedName: String?, spec requested: ContainerSpec, base: ContainerBase) async throws -> String {
        let name = try requestedName.flatMap { $0.isEmpty ? nil : try ContainerNames.validate($0) } ?? uniqueRandomName()
        if let holder = containers.values.first(where: { $0.name == name }) {
            throw EngineError.nameInUse(name: name, id: holder.id)
        }
        var spec = requested
        try complete(&spec, imageDefaults: base.defaults)
        try await completeNetwork(&spec)
        let command = spec.process.command
        guard let path = command.first else {
            throw EngineError.invalidParameter("no command specified")
        }
        let userNamespace = spec.namespaces.user == "host" ? nil : configuration.userNamespaceRemap?.map
        if userNamespace != nil && spec.network.isBridged && spec.runtime != EngineConfiguration.builtinRuntimeName {
            // Berth's runtime joins the engine's network namespace before it makes the user
            // namespace; runc 1.1 enters the user namespace first on exec, and then cannot.
            guard requested.network.mode.isEmpty || requested.network.mode == "default" else {
                throw EngineError.invalidParameter("bridge networks are available to containers in the daemon's user namespace (--userns-remap) with Berth's runtime only, not \(spec.runtime): use --runtime berth, --network none or --userns=host")
            }
            spec.network.mode = "none"
            spec.network.joins = []
        }
        try validate(spec, remapped: userNamespace != nil)
        let id = Self.newID()
        let parent = base.chainID
        let mounts: [MountPoint]
        do {
            mounts = try await planMounts(spec.storage, for: id)
        } catch {
            // Anonymous volumes made for it go with it.
            await volumes.release(container: id, removeAnonymous: true)
            throw error
        }
        let record = ContainerRecord(
            id: id, name: name, created: .now(), image: base.image, imageName: requested.image,
            spec: spec, path: path, args: Array(command.dropFirst()),
            state: .created, restartCount: 0, runtime: spec.runtime, parentChainID: parent, userNamespace: userNamespace, mounts: mounts)
        do {
            try FileSystem.makeDirectories(directory(of: id), mode: 0o700)
            if let gid = userNamespace?.hostRootGID {
                // Searchable by the container's root (its rootfs mount point and etc files are here).
                guard chown(directory(of: id), 0, gid) == 0, chmod(directory(of: id), 0o710) == 0 else {
                    throw EngineError.failure("cannot open \(directory(of: id)) to the container's root: \(String(cString: strerror(errno)))")
                }
            }
            try snapshots.prepare(container: id, parent: parent)
            try store.save(record)
        } catch {
            try? snapshots.remove(container: id)
            try? FileSystem.removeTree(directory(of: id))
            await volumes.release(container: id, removeAnonymous: true)
            throw error
        }
        containers[id] = record
        publish("create", record)
        return id
    }

    /// Fills in what the request left to the image (command, environment, user, working
    /// directory, stop signal, health check, labels, volumes) and to the daemon (runtime,
    /// network mode — `bridge`, as docker's, when the daemon has bridge networking — cgroup
    /// namespace mode, log driver).
    private func complete(_ spec: inout ContainerSpec, imageDefaults defaults: ContainerDefaults) throws {
        if spec.process.entrypoint == nil || spec.process.entrypoint == [] {
            // `--entrypoint ""` resets the image's entrypoint; a missing one inherits it.
            spec.process.entrypoint = spec.process.entrypoint == [] ? nil : defaults.Entrypoint
            if spec.process.cmd == nil || spec.process.cmd == [] { spec.process.cmd = defaults.Cmd }
        }
        spec.process.env = (defaults.Env ?? []) + spec.process.env
        if spec.process.workingDir.isEmpty { spec.process.workingDir = defaults.WorkingDir ?? "" }
        if spec.process.user.isEmpty { spec.process.user = defaults.User ?? "" }
        if spec.stopSignal.isEmpty { spec.stopSignal = defaults.StopSignal ?? "" }
        try HealthSchedule.validate(spec.healthcheck)
        spec.healthcheck = HealthSchedule.merge(spec.healthcheck, image: defaults.Healthcheck)
        spec.labels = (defaults.Labels ?? [:]).merging(spec.labels) { $1 }
        spec.storage.volumes = Array(Set((defaults.Volumes ?? [:]).keys).union(spec.storage.volumes)).sorted()
        spec.exposedPorts = Array(Set((defaults.ExposedPorts ?? [:]).keys).union(spec.exposedPorts).union(spec.network.portBindings.map { "\($0.containerPort)/\($0.proto)" })).sorted()
        for key in spec.exposedPorts { _ = try PortBinding.parseKey(key) }
        try EtcFiles.validate(extraHosts: spec.network.extraHosts)
        for binding in spec.network.portBindings {
            _ = try binding.hostPortRange()
            guard binding.hostIP.isEmpty || binding.hostIP == "0.0.0.0" || IPv4Address(binding.hostIP) != nil else {
                throw EngineError.invalidParameter("invalid host IP \(binding.hostIP): Berth publishes on IPv4 addresses only")
            }
        }
        if spec.runtime.isEmpty { spec.runtime = configuration.defaultRuntime }
        if spec.network.mode.isEmpty || spec.network.mode == "default" { spec.network.mode = attachments == nil ? "none" : "bridge" }
        if spec.namespaces.cgroup.isEmpty { spec.namespaces.cgroup = SecurityDefaults.cgroupNamespaceMode }
        if spec.log.driver.isEmpty { spec.log.driver = LogSettings.Driver.jsonFile.rawValue }
    }

    /// Checks a completed spec with docker's rules and words; `remapped` is a container in the
    /// daemon's user namespace.
    private func validate(_ spec: ContainerSpec, remapped: Bool) throws {
        guard configuration.runtimes[spec.runtime] != nil else {
            throw EngineError.invalidParameter("unknown or invalid runtime name: \(spec.runtime)")
        }
        try validate(spec.resources)
        _ = try SecurityDefaults.capabilities(adding: spec.security.capAdd, dropping: spec.security.capDrop, privileged: spec.security.privileged)
        _ = try SecurityOptions(spec.security.securityOpt)
        switch spec.namespaces.cgroup {
        case "private", "host": break
        case let other: throw EngineError.invalidParameter("invalid cgroup namespace mode: \(other)")
        }
        switch spec.namespaces.user {
        case "", "host": break
        case let other: throw EngineError.invalidParameter("invalid USER mode: \(other)")
        }
        if spec.restartPolicy != .no, spec.autoRemove {
            throw EngineError.invalidParameter("can't create 'AutoRemove' container with restart policy")
        }
        try HostOptions.validate(spec, remapped: remapped)
        _ = try LogSettings(spec.log)
        if remapped {
            if spec.security.privileged {
                throw EngineError.invalidParameter("privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode")
            }
            if spec.network.isHost {
                throw EngineError.invalidParameter("cannot share the host's network namespace when user namespaces are enabled")
            }
        }
    }

    /// `none`, `host`, or the name of a bridge network a container may join (404 when no
    /// network has that name or ID).
    func joinableNetworkMode(_ mode: String) async throws -> String {
        switch mode {
        case "none", "host": return mode
        case let other where other.hasPrefix("container:"):
            throw EngineError.invalidParameter("\(other) is a network mode, not a network")
        default:
            guard let attachments else { throw EngineError.noSuchNetwork(mode) }
            return try await attachments.joinableNetworkName(mode)
        }
    }

    /// Checks limits with docker's rules and words (at create and update).
    func validate(_ resources: ResourceSpec) throws {
        if let memory = resources.memory, memory != 0, memory < 6 * 1024 * 1024 {
            throw EngineError.invalidParameter("Minimum memory limit allowed is 6MB")
        }
        if let nano = resources.nanoCpus, nano < 0 || nano > Int64(sysconf(Int32(_SC_NPROCESSORS_ONLN))) * 1_000_000_000 {
            throw EngineError.invalidParameter("Range of CPUs is from 0.01 to \(sysconf(Int32(_SC_NPROCESSORS_ONLN))).00, as there are only \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs available")
        }
    }

    private func uniqueRandomName() -> String {
        var name = ContainerNames.random()
        while containers.values.contains(where: { $0.name == name }) { name = ContainerNames.random() + String(Int.random(in: 0...9)) }
        return name
    }

    static func newID() -> String {
        (0..<4).map { _ in
            let s = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }.joined()
    }

    /// Persists `record` and makes it the current one.
    func update(_ record: ContainerRecord, durable: Bool = true) throws {
        try store.save(record, durable: durable)
        containers[record.id] = record
    }
}
