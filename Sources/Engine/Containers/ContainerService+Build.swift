import BerthSystem
import CBerthSys
import Glibc
import LayerArchive
import OCI

/// One archive a build step unpacks into its container, and where.
struct BuildArchive: Sendable {
    /// The tar to unpack; nil: only make `directory`.
    var archive: String?
    /// The container directory it is unpacked into.
    var directory: String
    /// Whether entries keep the archive's owners when no `--chown` is given (`ADD` of a local
    /// tar, `COPY --from`), rather than belonging to root.
    var keepsOwners = false
    /// Whether entries keep the archive's modes even with `--chmod` (`ADD` of a local tar).
    var keepsModes = false
}

/// What a build step's container gives back: its changes as a layer blob in the content store.
struct BuildLayer: Sendable, Equatable {
    var descriptor: Descriptor
    var diffID: Digest
}

extension ContainerService {
    /// Creates the container of one build step over `base`: never started by anything but the
    /// builder, removed by it afterwards.
    func createBuildContainer(spec: ContainerSpec, base: ContainerBase) async throws -> String {
        try await create(name: nil, spec: spec, base: base)
    }

    /// Unpacks each of `archives` into the (stopped) container: its directory made with the
    /// parents it lacks (mode 0755, owned by the `chown` owner or root), paths resolved in the
    /// container's root with links followed inside it (never out of it), entries unpacked with
    /// the layer code's safety rules, owned by the `chown` owner (`user[:group]` by name from the
    /// container's own passwd and group files, or numbers; a user alone: its UID as the GID too,
    /// as docker does), else by root unless the archive `keepsOwners`, with `permissions` when
    /// given. An archive of nil only makes its directory.
    func unpackBuildContent(_ id: String, _ archives: [BuildArchive], chown: String?, permissions: mode_t?) async throws {
        try await withFiles(id) { (files: ContainerFiles, _: ContainerRecord) -> Void in
            let owner = try Self.buildOwner(chown, rootfs: files.rootfs)
            for item in archives {
                let target = try Self.makeDirectories(files, item.directory, owner: owner ?? (0, 0))
                defer { close(target) }
                guard let archive = item.archive else { continue }
                let rule: @Sendable (uid_t, gid_t) -> (uid_t, gid_t)
                if let owner {
                    rule = { _, _ in (owner.uid, owner.gid) }
                } else if item.keepsOwners {
                    rule = { ($0, $1) }
                } else {
                    rule = { _, _ in (0, 0) }
                }
                let options = ExtractionOptions(permissions: item.keepsModes ? nil : permissions, owner: rule)
                try LayerApplier().extract(archiveAt: archive, into: "/proc/self/fd/\(target)", options: options)
            }
        }
    }

    /// The owner `--chown` names, resolved in the root file system at `rootfs`; nil for none.
    /// A user alone stands for its group too (docker's classic builder: `--chown=app` is
    /// `app:app`, `--chown=10` is `10:10`).
    private static func buildOwner(_ chown: String?, rootfs: String) throws -> (uid: uid_t, gid: gid_t)? {
        guard let chown, !chown.isEmpty else { return nil }
        let resolved = try UserResolver(rootfs: rootfs).resolve(chown.contains(":") ? chown : chown + ":" + chown)
        return (resolved.uid, resolved.gid)
    }

    /// Whether `path` in the container is a directory (links followed inside its root).
    func isDirectory(_ id: String, path: String) async throws -> Bool {
        try await withFiles(id) { files, _ in
            guard let location = try? files.resolve(path, followFinal: true), let (parent, name) = try? files.entry(location) else { return false }
            defer { close(parent) }
            var st = stat()
            return fstatat(parent, name, &st, 0) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
        }
    }

    /// Opens the container directory `path`, creating what is missing of it (mode 0755; the
    /// directory itself owned by `owner`, parents by root) one component at a time, each resolved inside the container's root (links
    /// followed there); an existing non-directory on the way is an error naming it.
    private static func makeDirectories(_ files: ContainerFiles, _ path: String, owner: (uid: uid_t, gid: gid_t)) throws -> Int32 {
        var reached = "/"
        let components = Paths.components(path)
        for (index, component) in components.enumerated() {
            let location = try files.resolve(reached == "/" ? "/" + component : reached + "/" + component, followFinal: true)
            let (parent, name) = try files.entry(location)
            defer { close(parent) }
            var st = stat()
            if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                guard errno == ENOENT, mkdirat(parent, name, 0o755) == 0 || errno == EEXIST else {
                    throw ContainerFilesError.system("mkdir \(location.containerPath)", errno)
                }
                // docker's classic builder: the destination itself belongs to the `--chown`
                // owner, the parents it had to make to root.
                let made = index == components.count - 1 ? owner : (uid: 0, gid: 0)
                _ = fchownat(parent, name, made.uid, made.gid, AT_SYMLINK_NOFOLLOW)
            } else if (st.st_mode & S_IFMT) != S_IFDIR {
                throw EngineError.invalidParameter("\(location.containerPath) is not a directory")
            }
            reached = location.containerPath
        }
        let location = try files.resolve(reached, followFinal: true)
        guard let (parent, name) = try files.open(parentOf: location) else {
            let fd = Glibc.open(location.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw ContainerFilesError.system("open \(location.root)", errno) }
            return fd
        }
        defer { close(parent) }
        let fd = openat(parent, name, berth_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOTDIR || errno == ELOOP { throw EngineError.invalidParameter("\(location.containerPath) is not a directory") }
            throw ContainerFilesError.system("open \(location.containerPath)", errno)
        }
        return fd
    }

    /// Which of `paths` exist in the (stopped) container, links not followed in the last
    /// component.
    func existingPaths(_ id: String, _ paths: [String]) async throws -> Set<String> {
        try await withFiles(id) { files, _ in
            var found = Set<String>()
            for path in paths {
                guard let location = try? files.resolve(path, followFinal: false), let (parent, name) = try? files.entry(location) else { continue }
                var st = stat()
                if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { found.insert(path) }
                close(parent)
            }
            return found
        }
    }

    /// Removes from the container's writable layer the mount points the runtime made for
    /// `paths` (deepest first): empty directories and empty regular files only, reached
    /// without following any link, so nothing the step's command planted there can redirect
    /// the removal.
    /// Mounts the root of a build container that is never started (a stage or an image a
    /// `RUN --mount=type=bind,from=…` reads) at its rootfs directory and answers the path; what
    /// the step writes there goes to that container's own upper, gone when it is removed.
    nonisolated func mountBuildRoot(_ id: String) throws -> String {
        let rootfs = store.directory(of: id) + "/rootfs"
        try snapshots.mount(container: id, at: rootfs)
        return rootfs
    }

    /// Unmounts what `mountBuildRoot` mounted.
    nonisolated func unmountBuildRoot(_ id: String) {
        try? snapshots.unmount(store.directory(of: id) + "/rootfs")
    }

    func removeMountPoints(_ id: String, _ paths: [String]) {
        Self.removeEmptyEntries(upper: snapshots.upperDirectory(container: id), paths: paths)
    }

    static func removeEmptyEntries(upper: String, paths: [String]) {
        let root = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { return }
        defer { close(root) }
        for path in paths.sorted(by: { Paths.components($0).count > Paths.components($1).count }) {
            let components = Paths.components(path)
            guard let name = components.last else { continue }
            var parent = dup(root)
            for component in components.dropLast() where parent >= 0 {
                let next = openat(parent, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                close(parent)
                parent = next
            }
            guard parent >= 0 else { continue }
            var st = stat()
            if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
                switch st.st_mode & S_IFMT {
                case S_IFDIR: _ = unlinkat(parent, name, AT_REMOVEDIR)
                case S_IFREG where st.st_size == 0: _ = unlinkat(parent, name, 0)
                default: break
                }
            }
            close(parent)
        }
    }

    /// The container's changes as a gzip layer stored in the content store. The mount points
    /// of the etc files (`/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`) that the runtime
    /// made empty in the writable layer are left out, as docker's init layer leaves them out.
    /// nil when nothing is left: the step changed no file. The container must be stopped and
    /// unmounted; without a user namespace its upper directory then becomes the layer's
    /// snapshot as it is (`OverlaySnapshotter.commit`), so the next step unpacks nothing, and
    /// the container must only be removed afterwards.
    func buildLayer(_ id: String) async throws -> BuildLayer? {
        let record = try resolve(id)
        let upper = snapshots.upperDirectory(container: record.id)
        Self.removeEtcMountPoints(upper: upper)
        guard !FileSystem.listDirectory(upper).isEmpty else { return nil }
        let staging = try await images.makeTemporaryDirectory("build-layer")
        defer { try? FileSystem.removeTree(staging) }
        let snapshots = snapshots
        let written = try await ProcessRunner.offload {
            try DiffWriter().writeLayer(fromUpper: upper, to: staging + "/layer.tar.gz", idMap: record.userNamespace)
        }
        try images.content.importFile(staging + "/layer.tar.gz", expected: written.digest, expectedSize: written.size)
        if record.userNamespace == nil {
            _ = try await ProcessRunner.offload { try snapshots.commit(container: record.id, diffID: written.diffID) }
        }
        return BuildLayer(descriptor: Descriptor(mediaType: MediaType.ociLayerGzip, digest: written.digest, size: written.size),
                          diffID: written.diffID)
    }

    /// Removes the empty regular files the runtime made in `upper` to bind the etc files on,
    /// and `/etc` itself when it was made only for them.
    private static func removeEtcMountPoints(upper: String) {
        removeEmptyEntries(upper: upper, paths: ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/etc"])
    }
}
