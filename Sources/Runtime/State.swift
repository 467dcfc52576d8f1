import BerthSystem
import FoundationEssentials
import Glibc
import OCI

/// What the runtime remembers about a container between commands, stored as
/// `<root>/<id>/state.json`. The start time of init guards against a recycled pid.
public struct ContainerRecord: Codable, Sendable, Equatable {
    public var id: String
    /// Absolute bundle directory.
    public var bundle: String
    /// Absolute root file system path (as seen from the host).
    public var rootfs: String
    /// Host pid of the container's init.
    public var pid: Int32
    /// Field 22 of `/proc/<pid>/stat` when the container was created.
    public var pidStartTime: UInt64
    /// Absolute cgroup directories the container was placed in, one per hierarchy.
    public var cgroupPaths: [String]
    /// Namespace types of the container (runtime-spec names), joined again by `exec`.
    public var namespaces: [String]
    /// The bundle's annotations, reported by `state`.
    public var annotations: [String: String]?
    /// The bundle's poststart and poststop hooks, kept so that `start` and `delete` need not
    /// decode the bundle again (empty: none; nil in records of older versions: read the bundle).
    public var poststart: [RuntimeSpec.Hook]?
    public var poststop: [RuntimeSpec.Hook]?

    /// The hooks of `phase` (`poststart` or `poststop`), from the record or, for a record
    /// that predates them, from the bundle.
    func hooks(_ phase: KeyPath<RuntimeSpec.Hooks, [RuntimeSpec.Hook]?>, recorded: [RuntimeSpec.Hook]?) -> [RuntimeSpec.Hook]? {
        recorded ?? (try? Bundle(path: bundle).spec.hooks?[keyPath: phase]) ?? nil
    }
}

/// The container's status as runtime-spec's state operation reports it.
public enum ContainerStatus: String, Sendable {
    case created, running, paused, stopped
}

/// The state directory (`--root`): one sub-directory per container.
public struct StateStore: Sendable {
    /// Absolute state directory.
    public let root: String

    /// A store under `root` (made absolute); nothing is created until a container is.
    public init(root: String) { self.root = Paths.absolute(root) }

    /// `<root>/<id>`.
    public func directory(of id: String) -> String { root + "/" + id }

    func fifoPath(of id: String) -> String { directory(of: id) + "/exec.fifo" }

    /// Rejects IDs that could name a path outside the state directory.
    public static func validate(id: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")
        guard !id.isEmpty, id != ".", id != "..", id.allSatisfy({ allowed.contains($0) }) else {
            throw RuntimeError.invalidID(id)
        }
    }

    /// Creates `<root>/<id>` (mode 0711, so a non-root init can reach its exec fifo);
    /// fails if the container exists.
    func makeDirectory(for id: String) throws {
        try StateStore.validate(id: id)
        do {
            try FileSystem.makeDirectories(root, mode: 0o700)
        } catch {
            throw RuntimeError.system(operation: "create state root \(root)", errno: (error as? FileSystemError)?.errno ?? EIO)
        }
        if mkdir(directory(of: id), 0o711) != 0 {
            if errno == EEXIST { throw RuntimeError.containerExists(id) }
            throw RuntimeError.errno("create state directory \(directory(of: id))")
        }
        chmod(directory(of: id), 0o711)
    }

    /// Writes the record atomically (not durably: it describes processes that a power loss
    /// ends anyway, and fsync would sit on every container's start path).
    public func save(_ record: ContainerRecord) throws {
        let data = try JSONEncoder().encode(record)
        do {
            try FileSystem.writeAtomically(directory(of: record.id) + "/state.json", bytes: Array(data), mode: 0o600, durable: false)
        } catch let error as FileSystemError {
            throw RuntimeError.system(operation: error.operation, errno: error.errno)
        }
    }

    /// The record of `id`; `containerNotFound` when there is none.
    public func load(_ id: String) throws -> ContainerRecord {
        try StateStore.validate(id: id)
        guard let bytes = try? FileSystem.readFile(directory(of: id) + "/state.json") else {
            throw RuntimeError.containerNotFound(id)
        }
        do {
            return try JSONDecoder().decode(ContainerRecord.self, from: Data(bytes))
        } catch {
            throw RuntimeError.invalidBundle(path: directory(of: id) + "/state.json", reason: "\(error)")
        }
    }

    /// Removes the container's state directory and everything in it.
    public func remove(_ id: String) throws {
        do {
            try FileSystem.removeTree(directory(of: id))
        } catch let error as FileSystemError {
            throw RuntimeError.system(operation: error.operation, errno: error.errno)
        }
    }

    /// `stopped` when init is gone (or a zombie, or a different process now has its pid),
    /// `created` while init waits on the exec fifo, `paused` while its cgroup is frozen,
    /// `running` otherwise.
    public func status(of record: ContainerRecord) -> ContainerStatus {
        guard let info = ProcessInfo(pid: record.pid), !info.isZombie, info.startTime == record.pidStartTime else {
            return .stopped
        }
        if FileSystem.exists(fifoPath(of: record.id)) { return .created }
        return Freezer.isFrozen(record.cgroupPaths) ? .paused : .running
    }

    /// The OCI state (runtime.md "State") of a container.
    public func state(of record: ContainerRecord) -> RuntimeState {
        let status = status(of: record)
        return RuntimeState(id: record.id, status: status.rawValue, pid: status == .stopped ? 0 : record.pid,
                            bundle: record.bundle, annotations: record.annotations)
    }
}

/// A few fields of `/proc/<pid>/stat`.
struct ProcessInfo {
    let state: Character
    let startTime: UInt64

    var isZombie: Bool { state == "Z" || state == "X" }

    init?(pid: Int32) {
        guard pid > 0, let bytes = try? FileSystem.readFile("/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        // The command name (field 2) may contain spaces and parentheses; fields resume after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); field 22 (start time) is fields[19].
        guard fields.count > 19, let state = fields[0].first, let start = UInt64(fields[19]) else { return nil }
        self.state = state
        self.startTime = start
    }
}
