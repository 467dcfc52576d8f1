import BerthSystem
import CBerthSys
import Glibc

/// `O_PATH` from <fcntl.h>, which Swift's Glibc module hides (it is a GNU extension).
let pathOnly: Int32 = berth_O_PATH

extension OverlaySnapshotter {
    /// Mounts the container's overlay at `target` (created if missing): its upper directory
    /// over the chain's layers, or over an empty directory when the image has none. With
    /// `readOnly` the whole mount is read-only. Works for any number of layers the kernel
    /// accepts: when the option string would exceed a page, lower directories are named
    /// through `/proc/self/fd`. With `idMapping`, every lower directory is an idmapped copy
    /// (so image files read as owned by the container's host IDs) and the upper directory's
    /// root is owned by the container's root; what the container writes lands in the upper
    /// directory with host IDs, which `DiffWriter` maps back.
    public func mount(container id: String, at target: String, readOnly: Bool = false, idMapping: LayerIDMapping? = nil) throws {
        let lowers = try lowerDirectories(container: id)
        try wrap("create mount point", target) { try FileSystem.makeDirectories(target, mode: 0o755) }
        let dir = containerDirectory(id)
        var descriptors: [Int32] = []
        defer { for fd in descriptors { close(fd) } }
        if let idMapping {
            for lower in lowers { descriptors.append(try idMapping.idmappedTree(lower)) }
            if let uid = idMapping.map.hostRootUID, let gid = idMapping.map.hostRootGID, chown(dir + "/upper", uid, gid) != 0 {
                throw SnapshotError.fileSystem(operation: "give the container's root its upper directory", path: dir + "/upper", errno: errno)
            }
        }
        // Features that would put overlay-private metadata (redirects, metacopy stubs, index
        // links) in the upper directory are off, so the upper stays a plain OCI changeset.
        let tail = ",upperdir=\(dir)/upper,workdir=\(dir)/work,index=off,redirect_dir=off,metacopy=off"
        var options = "lowerdir=" + lowers.joined(separator: ":") + tail
        if !descriptors.isEmpty {
            options = "lowerdir=" + descriptors.map { "/proc/self/fd/\($0)" }.joined(separator: ":") + tail
        } else if options.utf8.count >= Int(getpagesize()) {
            for lower in lowers {
                let fd = open(lower, pathOnly | O_DIRECTORY | O_CLOEXEC)
                guard fd >= 0 else { throw SnapshotError.fileSystem(operation: "open layer", path: lower, errno: errno) }
                descriptors.append(fd)
            }
            options = "lowerdir=" + descriptors.map { "/proc/self/fd/\($0)" }.joined(separator: ":") + tail
        }
        let flags = UInt(readOnly ? MS_RDONLY : 0)
        guard Glibc.mount("overlay", target, "overlay", flags, options) == 0 else {
            throw SnapshotError.fileSystem(operation: "mount overlay (\(lowers.count) layers) on", path: target, errno: errno)
        }
    }

    /// Unmounts `target`; when it is busy, detaches it (it goes away once unused). A path that
    /// is not mounted is not an error, so cleanup may call this twice.
    public func unmount(_ target: String) throws {
        if umount2(target, 0) == 0 { return }
        switch errno {
        case EINVAL, ENOENT: return
        case EBUSY:
            guard umount2(target, Int32(MNT_DETACH)) == 0 else {
                throw SnapshotError.fileSystem(operation: "detach", path: target, errno: errno)
            }
        default:
            throw SnapshotError.fileSystem(operation: "unmount", path: target, errno: errno)
        }
    }
}
