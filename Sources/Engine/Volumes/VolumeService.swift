#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import CBerthSys
import Glibc

/// The named volumes of this engine (docker's `local` driver) and who uses them. Guarantees: a
/// volume is visible only once its directory and its record are on disk; a volume some
/// container refers to (running or not) is never removed unless forced; a volume whose options
/// name a file system has it mounted exactly while a running container uses it.
public actor VolumeService {
    /// `<root>/volumes`.
    let root: String
    private let trash: String
    /// Owner of every new volume's data directory: the remapped root under
    /// `--userns-remap` (as dockerd's per-mapping volumes are), else nil (root).
    private let owner: (uid: UInt32, gid: UInt32)?
    private let events: EventBus?
    private var volumes: [String: Volume] = [:]
    /// Containers referring to each volume (created, running or stopped).
    private var users: [String: Set<String>] = [:]
    /// Running containers using each volume that mounts a file system.
    private var active: [String: Set<String>] = [:]

    /// Opens the volumes under `root`, creating it; a directory left half-made by a crash (no
    /// `_data`) is removed, one without a record (made by an older Berth) is a plain volume.
    public init(root: String, trash: String, owner: (uid: UInt32, gid: UInt32)? = nil, events: EventBus? = nil) throws {
        self.events = events
        self.root = root
        self.trash = trash
        self.owner = owner
        try FileSystem.makeDirectories(root, mode: 0o701)
        guard chmod(root, 0o701) == 0 else {
            throw EngineError.failure("cannot set the mode of \(root): \(String(cString: strerror(errno)))")
        }
        for name in FileSystem.listDirectory(root) {
            let directory = root + "/" + name
            guard FileSystem.isDirectory(directory + "/_data") else {
                try? Trash.discard(directory, into: trash)
                continue
            }
            if let bytes = try? FileSystem.readFile(directory + "/volume.json"),
               let volume = try? JSONDecoder().decode(Volume.self, from: Data(bytes)), volume.name == name {
                volumes[name] = volume
            } else {
                var st = stat()
                let created = stat(directory, &st) == 0 ? Timestamp(seconds: Int64(st.st_mtim.tv_sec)) : Timestamp.now()
                volumes[name] = Volume(name: name, createdAt: created, labels: [:], options: [:])
            }
        }
    }

    /// Host path of a volume's data directory (docker's `Mountpoint`).
    public nonisolated func mountpoint(of name: String) -> String { "\(root)/\(name)/_data" }

    // MARK: Create, inspect, list

    /// `docker volume create`: makes the volume, or returns the existing one of that name (as
    /// docker does). An empty name makes an anonymous-style 64-hex name.
    public func create(name: String?, labels: [String: String] = [:], options: [String: String] = [:]) throws -> Volume {
        try ensure(name: name, labels: labels, options: options, user: nil)
    }

    /// `create` on behalf of a container being created (`user`), which is recorded as using
    /// the volume in the same step, so no removal can come between.
    func ensure(name requested: String?, labels: [String: String], options: [String: String], user: String?) throws -> Volume {
        let name = requested.flatMap { $0.isEmpty ? nil : $0 } ?? Volume.anonymousName()
        try Volume.validate(name: name)
        if let existing = volumes[name] {
            if let user { users[name, default: []].insert(user) }
            return existing
        }
        try Volume.validate(options: options)
        let volume = Volume(name: name, createdAt: .now(), labels: labels, options: options)
        let directory = root + "/" + name
        do {
            try FileSystem.makeDirectories(directory + "/_data", mode: 0o755)
            if let owner, chown(directory + "/_data", owner.uid, owner.gid) != 0 {
                throw FileSystemError(operation: "chown \(directory)/_data", errno: errno)
            }
            try FileSystem.writeAtomically(directory + "/volume.json", bytes: Array(JSONEncoder().encode(volume)), mode: 0o600)
        } catch {
            try? FileSystem.removeTree(directory)
            throw EngineError.failure("create \(name): \(error)")
        }
        volumes[name] = volume
        if let user { users[name, default: []].insert(user) }
        publish("create", name)
        return volume
    }

    /// The volume named `name`; 404 as docker words it when there is none.
    public func inspect(_ name: String) throws -> Volume {
        guard let volume = volumes[name] else { throw EngineError.noSuchVolume(name) }
        return volume
    }

    /// Every volume, by name.
    public func list() -> [Volume] {
        volumes.values.sorted { $0.name < $1.name }
    }

    /// IDs of the containers that refer to `name`.
    public func users(of name: String) -> [String] {
        (users[name] ?? []).sorted()
    }

    /// Bytes allocated under the volume's data directory (docker's `UsageData.Size`).
    public func size(of name: String) -> Int64 {
        (try? DiskUsage.bytes(under: mountpoint(of: name))) ?? -1
    }

    // MARK: Use by containers

    /// Records that `container` refers to the volumes `names` (at create, and at daemon start
    /// for every container on record). Every name must exist.
    public func use(_ names: [String], by container: String) throws {
        for name in names where volumes[name] == nil { throw EngineError.noSuchVolume(name) }
        for name in names { users[name, default: []].insert(container) }
    }

    /// Forgets `container`'s references (it was removed); with `removeAnonymous` (`rm -v`,
    /// `--rm`) its anonymous volumes nobody else uses are removed, as docker does.
    public func release(container: String, removeAnonymous: Bool) {
        for (name, ids) in users where ids.contains(container) {
            users[name]?.remove(container)
            if users[name]?.isEmpty == true { users[name] = nil }
            if removeAnonymous, users[name] == nil, volumes[name]?.isAnonymous == true {
                try? remove(name, force: false)
            }
        }
    }

    /// Makes `name` ready for a starting container: mounts its file system (type, device, o)
    /// on its data directory when it is the first running user.
    public func activate(_ name: String, for container: String) throws {
        guard let volume = volumes[name] else { throw EngineError.noSuchVolume(name) }
        if volume.mountsFileSystem, active[name]?.isEmpty ?? true, !Self.isMountPoint(mountpoint(of: name)) {
            try mountFileSystem(volume)
        }
        active[name, default: []].insert(container)
        publish("mount", name, ["container": container])
    }

    /// `container` stopped: a volume's file system is unmounted when its last running user goes.
    public func deactivate(container: String) {
        for (name, ids) in active where ids.contains(container) {
            active[name]?.remove(container)
            publish("unmount", name, ["container": container])
            guard active[name]?.isEmpty == true else { continue }
            active[name] = nil
            if volumes[name]?.mountsFileSystem == true { umount2(mountpoint(of: name), Int32(MNT_DETACH)) }
        }
    }

    private func mountFileSystem(_ volume: Volume) throws {
        let type = volume.options["type"] ?? ""
        var flags: UInt = 0
        var data: [String] = []
        for option in (volume.options["o"] ?? "").split(separator: ",").map(String.init) {
            switch option {
            case "bind": flags |= UInt(MS_BIND)
            case "rbind": flags |= UInt(MS_BIND | MS_REC)
            case "ro": flags |= UInt(MS_RDONLY)
            case "rw": break
            case "nosuid": flags |= UInt(MS_NOSUID)
            case "nodev": flags |= UInt(MS_NODEV)
            case "noexec": flags |= UInt(MS_NOEXEC)
            default: data.append(option)
            }
        }
        let device = volume.options["device"] ?? ""
        if flags & UInt(MS_BIND) != 0, !device.hasPrefix("/") || !FileSystem.exists(device) {
            throw EngineError.invalidParameter("error while mounting volume '\(mountpoint(of: volume.name))': failed to mount local volume: mount \(device):\(mountpoint(of: volume.name)), flags: 0x\(String(flags, radix: 16)): no such file or directory")
        }
        let result = data.joined(separator: ",").withCString { options in
            mount(device, mountpoint(of: volume.name), type == "none" ? nil : type, flags, options)
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            throw EngineError.failure("error while mounting volume '\(mountpoint(of: volume.name))': failed to mount local volume: mount \(device):\(mountpoint(of: volume.name)), data: \(data.joined(separator: ",")): \(reason.lowercased())")
        }
    }

    /// Whether `path` is the root of a mount (its device differs from its parent's, or it is
    /// a bind of the same file system: then `statx` says so).
    static func isMountPoint(_ path: String) -> Bool {
        berth_is_mount_root(path) == 1
    }

    // MARK: Remove and prune

    /// `docker volume rm`: refuses a volume a container refers to (409, even with `force`, as
    /// docker does); `force` only makes a missing volume no error.
    public func remove(_ name: String, force: Bool) throws {
        guard let volume = volumes[name] else {
            if force { return }
            throw EngineError.noSuchVolume(name)
        }
        if let ids = users[name], !ids.isEmpty {
            throw EngineError.conflict("remove \(name): volume is in use - [\(ids.sorted().joined(separator: ", "))]")
        }
        if volume.mountsFileSystem, Self.isMountPoint(mountpoint(of: name)) { umount2(mountpoint(of: name), Int32(MNT_DETACH)) }
        do {
            try Trash.discard(root + "/" + name, into: trash)
        } catch {
            throw EngineError.failure("remove \(name): \(error)")
        }
        volumes[name] = nil
        publish("destroy", name)
    }

    private func publish(_ action: String, _ name: String, _ extra: [String: String] = [:]) {
        events?.publish(EngineEvent(type: .volume, action: action, actorID: name, attributes: extra.merging(["driver": "local"]) { $1 }))
    }

    /// `docker volume prune`: removes the volumes no container refers to that `include`
    /// accepts; returns their names and the bytes their data took.
    public func prune(where include: (Volume) -> Bool) -> (names: [String], reclaimed: Int64) {
        var names: [String] = []
        var reclaimed: Int64 = 0
        for volume in list() where (users[volume.name] ?? []).isEmpty && include(volume) {
            let size = volume.mountsFileSystem ? 0 : max(0, self.size(of: volume.name))
            guard (try? remove(volume.name, force: false)) != nil else { continue }
            names.append(volume.name)
            reclaimed += size
        }
        return (names, reclaimed)
    }
}
