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

    public init(configuration: EngineConfiguration, images: ImageService, snapshots: OverlaySnapshotter, volumes: VolumeService, events: EventBus) {
        self.init(configuration: configuration, images: images, snapshots: snapshots, volumes: volumes, events: events,
                  tasks: RuntimeTasks(configuration: configuration))
    }

    /// A service acting through `tasks` (a fake in tests).
    init(configuration: EngineConfiguration, images: ImageService, snapshots: OverlaySnapshotter, volumes: VolumeService, events: EventBus,
         tasks: ContainerTasks) {
        self.tasks = tasks
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
        containers.values.filter { all || $0.state.isRunning || $0.state.isRestarting }.sorted { $0.created > $1.created }
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
        let settings = try? LogSettings(record.hostConfig.LogConfig)
        guard settings?.driver != LogSettings.Driver.none else { return nil }
        let current = logPath(of: record.id)
        return stride(from: (settings?.maxFiles ?? 1) - 1, to: 0, by: -1).map { "\(current).\($0)" } + [current]
    }

    /// The monitor's working directory: on the runtime tmpfs and short, because it holds Unix
    /// sockets, whose paths are limited to 107 bytes. Its `container-json.log` is a symlink to
    /// the persistent log.
    func monitorDirectory(of id: String) -> String { configuration.execRoot + "/m/" + id.prefix(16) }

    // MARK: Create

    /// `docker create`: merges `config` with the image's defaults, prepares the container's
    /// writable layer and records it. Returns the new ID.
    public func create(name requestedName: String?, config requested: ContainerConfig) async throws -> String {
        guard let imageName = requested.Image, !imageName.isEmpty else {
            throw EngineError.invalidParameter("config must name an image")
        }
        // `run` starts what it creates a few milliseconds later.
        cgroupLock.prime()
        let image = try await images.resolve(imageName)
        let imageConfig = try await images.config(of: image)
        let name = try requestedName.flatMap { $0.isEmpty ? nil : try ContainerNames.validate($0) } ?? uniqueRandomName()
        if let holder = containers.values.first(where: { $0.name == name }) {
            throw EngineError.nameInUse(name: name, id: holder.id)
        }
        var config = requested
        let defaults = imageConfig.config ?? ContainerDefaults()
        let host = requested.HostConfig ?? HostConfig()
        config.HostConfig = nil
        if config.Entrypoint == nil || config.Entrypoint == [] {
            config.Entrypoint = requested.Entrypoint == [] ? nil : defaults.Entrypoint
            if config.Cmd == nil || config.Cmd == [] { config.Cmd = defaults.Cmd }
        }
        config.Env = (defaults.Env ?? []) + (requested.Env ?? [])
        if (config.WorkingDir ?? "").isEmpty { config.WorkingDir = defaults.WorkingDir }
        if (config.User ?? "").isEmpty { config.User = defaults.User }
        if config.StopSignal == nil { config.StopSignal = defaults.StopSignal }
        try HealthSchedule.validate(requested.Healthcheck)
        config.Healthcheck = HealthSchedule.merge(requested.Healthcheck, image: defaults.Healthcheck)
        config.Labels = (defaults.Labels ?? [:]).merging(requested.Labels ?? [:]) { $1 }
        let command = (config.Entrypoint ?? []) + (config.Cmd ?? [])
        guard let path = command.first else {
            throw EngineError.invalidParameter("no command specified")
        }
        let runtime = host.Runtime.flatMap { $0.isEmpty ? nil : $0 } ?? configuration.defaultRuntime
        guard configuration.runtimes[runtime] != nil else {
            throw EngineError.invalidParameter("unknown or invalid runtime name: \(runtime)")
        }
        try validate(host)
        if try RestartPolicyKind(host.RestartPolicy) != .no, host.AutoRemove == true {
            throw EngineError.invalidParameter("can't create 'AutoRemove' container with restart policy")
        }
        let userNamespace = host.UsernsMode == "host" ? nil : configuration.userNamespaceRemap?.map
        try HostOptions.validate(host, hostname: requested.Hostname, remapped: userNamespace != nil)
        _ = try LogSettings(host.LogConfig)
        if userNamespace != nil {
            if host.Privileged == true {
                throw EngineError.invalidParameter("privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode")
            }
            if host.NetworkMode == "host" {
                throw EngineError.invalidParameter("cannot share the host's network namespace when user namespaces are enabled")
            }
        }
        let id = Self.newID()
        let parent = try await images.topChainID(of: image)
        let volumePaths = Array((defaults.Volumes ?? [:]).keys) + Array((requested.Volumes ?? [:]).keys)
        let mounts: [MountPoint]
        do {
            mounts = try await planMounts(host, volumePaths: volumePaths, for: id)
        } catch {
            // Anonymous volumes made for it go with it.
            await volumes.release(container: id, removeAnonymous: true)
            throw error
        }
        var hostConfig = host
        hostConfig.Runtime = runtime
        if (hostConfig.NetworkMode ?? "").isEmpty || hostConfig.NetworkMode == "default" { hostConfig.NetworkMode = "none" }
        if (hostConfig.CgroupnsMode ?? "").isEmpty { hostConfig.CgroupnsMode = SecurityDefaults.cgroupNamespaceMode }
        if (hostConfig.LogConfig?.Type ?? "").isEmpty {
            hostConfig.LogConfig = LogConfig(Type: LogSettings.Driver.jsonFile.rawValue, Config: hostConfig.LogConfig?.Config ?? [:])
        }
        let record = ContainerRecord(
            id: id, name: name, created: .now(), image: image.id, imageName: imageName,
            config: config, hostConfig: hostConfig, path: path, args: Array(command.dropFirst()),
            state: .created, restartCount: 0, runtime: runtime, parentChainID: parent, userNamespace: userNamespace, mounts: mounts)
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

    func validate(_ host: HostConfig) throws {
        switch host.NetworkMode ?? "default" {
        case "", "default", "none", "host": break
        case "bridge": throw EngineError.invalidParameter("network bridge is not available yet: use --network none or --network host")
        case let other: throw EngineError.invalidParameter("network \(other) not found")
        }
        if let memory = host.Memory, memory != 0, memory < 6 * 1024 * 1024 {
            throw EngineError.invalidParameter("Minimum memory limit allowed is 6MB")
        }
        if let nano = host.NanoCpus, nano < 0 || nano > Int64(sysconf(Int32(_SC_NPROCESSORS_ONLN))) * 1_000_000_000 {
            throw EngineError.invalidParameter("Range of CPUs is from 0.01 to \(sysconf(Int32(_SC_NPROCESSORS_ONLN))).00, as there are only \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs available")
        }
        _ = try SecurityDefaults.capabilities(adding: host.CapAdd ?? [], dropping: host.CapDrop ?? [], privileged: host.Privileged ?? false)
        _ = try SecurityOptions(host.SecurityOpt ?? [])
        switch host.CgroupnsMode ?? "" {
        case "", "private", "host": break
        case let other: throw EngineError.invalidParameter("invalid cgroup namespace mode: \(other)")
        }
        switch host.UsernsMode ?? "" {
        case "", "host": break
        case let other: throw EngineError.invalidParameter("invalid USER mode: \(other)")
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
