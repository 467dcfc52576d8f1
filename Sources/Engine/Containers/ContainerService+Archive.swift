import BerthSystem
import CBerthSys
import Glibc
import LayerArchive
import OCI

/// What `docker cp` learns about a path before copying (`X-Docker-Container-Path-Stat`).
public struct PathStat: Codable, Sendable, Equatable {
    public var name: String
    public var size: Int64
    /// Go's `os.FileMode`: permission bits plus its type and special bits.
    public var mode: UInt32
    public var mtime: String
    /// For a symbolic link, the container path it resolves to; else empty.
    public var linkTarget: String

    /// Go `os.FileMode` bits of a `stat` mode.
    static func goMode(_ mode: mode_t) -> UInt32 {
        var bits = UInt32(mode & 0o777)
        switch mode & S_IFMT {
        case S_IFDIR: bits |= 1 << 31
        case S_IFLNK: bits |= 1 << 27
        case S_IFBLK: bits |= 1 << 26
        case S_IFCHR: bits |= 1 << 26 | 1 << 21
        case S_IFIFO: bits |= 1 << 25
        case S_IFSOCK: bits |= 1 << 24
        default: break
        }
        if mode & S_ISUID != 0 { bits |= 1 << 23 }
        if mode & S_ISGID != 0 { bits |= 1 << 22 }
        if mode & S_ISVTX != 0 { bits |= 1 << 20 }
        return bits
    }

    /// Whether the path is a directory.
    public var isDirectory: Bool { mode & (1 << 31) != 0 }
}

extension ContainerService {
    /// `HEAD /containers/{id}/archive`: what is at `path` in the container (a final link is
    /// not followed). 404 when nothing is there.
    public func pathStat(_ reference: String, path: String) async throws -> PathStat {
        try await withFiles(reference) { files, _ in try Self.stat(files, path: path) }
    }

    /// `GET /containers/{id}/archive`: writes a tar of `path` (a directory with everything
    /// below it; a final link itself, not followed) to `output`, its top entry named after the
    /// path's last component as docker names it, owners as the container sees them.
    public func archive(_ reference: String, path: String, to output: String) async throws -> PathStat {
        try await withFiles(reference) { files, record in
            let stat = try Self.stat(files, path: path)
            let location = try files.resolve(path, followFinal: false)
            let (parent, name) = try files.entry(location)
            defer { close(parent) }
            _ = try DiffWriter().writeArchive(ofEntry: name, in: parent, as: Self.archivedName(path), to: output, idMap: record.userNamespace)
            return stat
        }
    }

    /// `GET /containers/{id}/export`: a tar of the container's root file system as the
    /// container sees it (its image and its changes, without volumes or binds, as docker's),
    /// owners as seen inside its user namespace.
    public func export(_ reference: String, to output: String) async throws {
        try await withFiles(reference) { (files: ContainerFiles, record: ContainerRecord) -> Void in
            _ = try DiffWriter().writeArchive(of: files.rootfs, to: output, idMap: record.userNamespace)
        }
    }

    /// `PUT /containers/{id}/archive`: unpacks the tar at `archive` into the directory at
    /// `path` (links followed), with the layer code's safety rules. Files belong to the
    /// container's root unless `copyUIDGID` keeps the archive's owners (mapped into the
    /// container's user namespace). Refused on a read-only root or volume (403) and when
    /// `path` is not a directory (400).
    public func extract(_ reference: String, path: String, archive: String, noOverwriteDirNonDir: Bool, copyUIDGID: Bool) async throws {
        let owner = Self.extractedOwner(try resolve(reference).userNamespace, copyUIDGID: copyUIDGID)
        let options = ExtractionOptions(noOverwriteDirNonDir: noOverwriteDirNonDir, owner: owner)
        try await withFiles(reference) { (files: ContainerFiles, _: ContainerRecord) -> Void in
            let location = try files.resolve(path, followFinal: true)
            if let reason = location.readOnlyReason { throw EngineError.forbidden(reason) }
            let (parent, name) = try files.entry(location)
            defer { close(parent) }
            let target = openat(parent, name, berth_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard target >= 0 else {
                if errno == ENOTDIR || errno == ELOOP { throw EngineError.invalidParameter("extraction point is not a directory") }
                throw ContainerFilesError.notFound(path)
            }
            defer { close(target) }
            try LayerApplier().extract(archiveAt: archive, into: "/proc/self/fd/\(target)", options: options)
        }
    }

    /// Owners of extracted files: the container's root, or (`copyUIDGID`) the archive's,
    /// taken as container IDs and mapped to the host when the container has a user namespace.
    static func extractedOwner(_ map: IDMap?, copyUIDGID: Bool) -> @Sendable (uid_t, gid_t) -> (uid_t, gid_t) {
        let rootUID = map?.hostRootUID ?? 0
        let rootGID = map?.hostRootGID ?? 0
        guard copyUIDGID else { return { _, _ in (rootUID, rootGID) } }
        guard let map else { return { uid, gid in (uid, gid) } }
        return { uid, gid in (map.hostUID(ofContainer: uid) ?? rootUID, map.hostGID(ofContainer: gid) ?? rootGID) }
    }

    /// Runs `body` over the container's files: at once for a running container (its root is
    /// mounted), else with its root mounted for the duration, one operation at a time. The
    /// file work runs off the actor.
    func withFiles<T: Sendable>(_ reference: String, _ body: @escaping @Sendable (ContainerFiles, ContainerRecord) throws -> T) async throws -> T {
        let record = try resolve(reference)
        let rootfs = directory(of: record.id) + "/rootfs"
        // The etc files are bound over the image's, as in the container.
        let etcFiles = ["hostname", "hosts", "resolv.conf"].map {
            MountPoint(kind: .bind, source: directory(of: record.id) + "/" + $0, destination: "/etc/" + $0)
        }
        let files = ContainerFiles(rootfs: rootfs, mounts: etcFiles + record.mounts, readOnlyRootfs: record.spec.storage.readOnlyRootfs)
        func run() async throws -> T {
            do {
                return try await ProcessRunner.offload { try body(files, record) }
            } catch ContainerFilesError.notFound(let missing) {
                throw EngineError.noSuchPath(container: reference, path: missing)
            }
        }
        if record.state.isRunning { return try await runReporting(reference, run) }
        return try await exclusively(record.id) {
            let current = try resolve(record.id)
            if current.state.isRunning { return try await runReporting(reference, run) }
            try snapshots.mount(container: record.id, at: rootfs, idMapping: try current.userNamespace.map(layerIDMapping))
            defer { try? snapshots.unmount(rootfs) }
            return try await runReporting(reference, run)
        }
    }

    private func runReporting<T>(_ reference: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ContainerFilesError {
            throw EngineError.failure("\(error)")
        }
    }

    private static func stat(_ files: ContainerFiles, path: String) throws -> PathStat {
        let location = try files.resolve(path, followFinal: false)
        let (parent, name) = try files.entry(location)
        defer { close(parent) }
        var st = Glibc.stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw ContainerFilesError.notFound(path) }
        var linkTarget = ""
        if (st.st_mode & S_IFMT) == S_IFLNK {
            linkTarget = (try? files.resolve(path, followFinal: true).containerPath) ?? ""
        }
        return PathStat(name: archivedName(path), size: Int64(st.st_size), mode: PathStat.goMode(st.st_mode),
                        mtime: Timestamp(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int64(st.st_mtim.tv_nsec)).rfc3339Nano,
                        linkTarget: linkTarget)
    }

    /// Go's `filepath.Base` of the path as docker keeps it (a trailing `/.` stays `.`).
    static func archivedName(_ path: String) -> String {
        if path.hasSuffix("/.") || path == "." { return "." }
        let parts = path.split(separator: "/")
        return parts.last.map(String.init) ?? "/"
    }
}
