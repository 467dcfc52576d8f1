import BerthSystem
import CBerthSys
import Glibc
import LayerArchive
import OCI

extension ContainerService {
    /// The mounts of container `id` from `-v`, `--mount`, `--volumes-from` and the image's
    /// (and the request's) `VOLUME`s, sorted so that a parent is mounted before what lies
    /// inside it. Everything is checked before the first volume is made; each volume is
    /// recorded as used by `id` as it is resolved (a caller that then fails releases them).
    func planMounts(_ storage: StorageSpec, for id: String) async throws -> [MountPoint] {
        var requests = try storage.binds.map(MountRequest.bind) + storage.mounts
        var seen = Set<String>()
        for request in requests where !seen.insert(request.destination).inserted {
            throw EngineError.invalidParameter("Duplicate mount point: \(request.destination)")
        }
        var inherited: [MountPoint] = []
        for entry in storage.volumesFrom {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, !parts[0].isEmpty else { throw EngineError.invalidParameter("invalid volumes-from: \(entry)") }
            let access = parts.count == 2 ? parts[1] : ""
            guard ["", "ro", "rw"].contains(access) else { throw EngineError.invalidParameter("invalid mode for volumes-from: \(access)") }
            let source = try resolve(parts[0])
            for var mount in source.mounts where seen.insert(mount.destination).inserted {
                if !access.isEmpty { mount.readOnly = access == "ro" }
                mount.copyData = false
                inherited.append(mount)
            }
        }
        for path in storage.volumes where !path.hasPrefix("/") {
            throw EngineError.invalidParameter("invalid volume specification: '\(path)': invalid mount config for type \"volume\": invalid mount path: '\(path)' mount path must be absolute")
        }
        for path in storage.volumes.map(Paths.clean).sorted() where path != "/" && seen.insert(path).inserted {
            requests.append(MountRequest(kind: .volume, source: nil, destination: path))
        }
        for request in requests where request.kind == .bind && !request.createsBindSource && !FileSystem.exists(request.source ?? "") {
            throw EngineError.invalidParameter("invalid mount config for type \"bind\": bind source path does not exist: \(request.source ?? "")")
        }
        try await volumes.use(inherited.compactMap(\.name), by: id)
        var planned = inherited
        for request in requests {
            planned.append(try await mountPoint(for: request, container: id))
        }
        return planned.sorted { Paths.components($0.destination).count < Paths.components($1.destination).count }
    }

    private func mountPoint(for request: MountRequest, container: String) async throws -> MountPoint {
        var point = MountPoint(kind: request.kind, source: request.source ?? "", destination: request.destination, readOnly: request.readOnly,
                               mode: request.mode, propagation: request.propagation, copyData: request.copyData,
                               recursive: request.recursive, tmpfsOptions: request.tmpfsOptions)
        switch request.kind {
        case .bind:
            if !FileSystem.exists(point.source) { try FileSystem.makeDirectories(point.source, mode: 0o755) }
        case .tmpfs:
            break
        case .volume:
            var labels = request.volumeLabels
            if request.source == nil { labels[Volume.anonymousLabel] = "" }
            let volume = try await volumes.ensure(name: request.source, labels: labels, options: request.volumeOptions, user: container)
            point.name = volume.name
            point.source = volumes.mountpoint(of: volume.name)
        }
        return point
    }

    /// Readies the volumes of a starting container whose root file system is mounted at
    /// `rootfs`: mounts the file systems of volumes that have one and copies the image's
    /// content at the destination into an empty volume (docker's copy-up, unless `nocopy`).
    func prepareVolumes(of record: ContainerRecord, rootfs: String) async throws {
        for mount in record.mounts where mount.kind == .volume {
            guard let name = mount.name else { continue }
            try await volumes.activate(name, for: record.id)
            if mount.copyData, FileSystem.listDirectory(mount.source).isEmpty {
                try VolumeCopyUp.copy(from: mount.destination, inRoot: rootfs, into: mount.source, scratch: configuration.temporaryRoot)
            }
        }
    }
}

/// Copies what an image holds at a path into an empty volume: the directory is resolved
/// inside the container's root (`RESOLVE_IN_ROOT`, so no link in the image can name a host
/// path), archived without following links and unpacked with the layer code's safety rules;
/// the volume's root takes the directory's owner and mode.
enum VolumeCopyUp {
    static func copy(from destination: String, inRoot rootfs: String, into data: String, scratch: String) throws {
        let root = open(rootfs, berth_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw EngineError.failure("cannot open \(rootfs): \(String(cString: strerror(errno)))") }
        defer { close(root) }
        let relative = Paths.components(destination).joined(separator: "/")
        let source = berth_openat2(root, relative, UInt64(UInt32(bitPattern: O_RDONLY | O_DIRECTORY | O_CLOEXEC)), 0,
                                   UInt64(BERTH_RESOLVE_IN_ROOT | BERTH_RESOLVE_NO_MAGICLINKS))
        // Nothing (or no directory) there in the image: nothing to copy.
        guard source >= 0 else { return }
        defer { close(source) }
        var st = stat()
        guard fstat(source, &st) == 0 else { return }
        let archive = scratch + "/copy-up-\(UInt64.random(in: 0...UInt64.max)).tar"
        defer { unlink(archive) }
        do {
            _ = try DiffWriter().writeArchive(of: "/proc/self/fd/\(source)", to: archive)
            _ = try LayerApplier().apply(layerAt: archive, to: data)
        } catch {
            throw EngineError.failure("cannot copy the image's content at \(destination) into the volume: \(error)")
        }
        guard chown(data, st.st_uid, st.st_gid) == 0, chmod(data, st.st_mode & 0o7777) == 0 else {
            throw EngineError.failure("cannot copy the owner and mode of \(destination) onto the volume: \(String(cString: strerror(errno)))")
        }
    }
}
