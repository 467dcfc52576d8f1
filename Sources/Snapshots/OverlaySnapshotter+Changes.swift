import BerthSystem
import CBerthSys
import Glibc

extension OverlaySnapshotter {
    /// Changes in the container's upper dir compared with its image layers, as `docker diff`
    /// reports them: (absolute path, kind) with docker's kinds 0 modified, 1 added, 2 deleted,
    /// sorted by path. A directory is reported as modified when something inside it changed.
    /// Lower layers are read with `RESOLVE_IN_ROOT`, so their links never lead to host files.
    public func changes(container id: String) throws -> [Change] {
        let lowerFDs = try lowerDirectories(container: id).map { path -> Int32 in
            let fd = open(path, pathOnly | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw SnapshotError.fileSystem(operation: "open layer", path: path, errno: errno) }
            return fd
        }
        defer { for fd in lowerFDs { close(fd) } }
        let upper = upperDirectory(container: id)
        let fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SnapshotError.fileSystem(operation: "open", path: upper, errno: errno) }
        defer { close(fd) }
        var scan = ChangeScan()
        _ = try scan.directory(fd, path: "", lowers: lowerFDs)
        return scan.changes.sorted { $0.path < $1.path }
    }
}

/// One walk of an upper directory against the lower layers, with overlayfs's lookup rules.
struct ChangeScan {
    var changes: [Change] = []

    /// Records the changes under `dir`, whose merged view draws on `lowers` (top-most first);
    /// returns whether there were any.
    mutating func directory(_ dir: Int32, path: String, lowers: [Int32]) throws -> Bool {
        var changed = false
        for name in try ChangeScan.names(dir, path: path) {
            let child = path + "/" + name
            var st = stat()
            guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT { continue }
                throw SnapshotError.fileSystem(operation: "stat", path: child, errno: errno)
            }
            let type = st.st_mode & S_IFMT
            if type == S_IFCHR && st.st_rdev == 0 {
                changes.append(Change(path: child, kind: .deleted))
                changed = true
                continue
            }
            let (lower, below) = lookup(child, in: lowers)
            guard type == S_IFDIR else {
                changes.append(Change(path: child, kind: lower == nil ? .added : .modified))
                changed = true
                continue
            }
            let opaque = isOpaque("/proc/self/fd/\(dir)/\(name)", follow: false)
            var recorded = true
            if lower == nil {
                changes.append(Change(path: child, kind: .added))
            } else if opaque || !sameDirectory(st, lower) {
                changes.append(Change(path: child, kind: .modified))
            } else {
                recorded = false
            }
            let sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard sub >= 0 else { throw SnapshotError.fileSystem(operation: "open", path: child, errno: errno) }
            defer { close(sub) }
            let inner = try directory(sub, path: child, lowers: opaque ? [] : below)
            if inner && !recorded {
                // docker reports the parents of a change as modified even when their own
                // attributes did not change.
                changes.append(Change(path: child, kind: .modified))
            }
            changed = changed || recorded || inner
        }
        return changed
    }

    /// What the merged view of the lowers shows at `path`, and which lowers the merged
    /// directory there (if it is one) draws its content from: the search stops at a whiteout,
    /// a non-directory, or after an opaque directory. Lower paths resolve inside each layer.
    private func lookup(_ path: String, in lowers: [Int32]) -> (stat?, [Int32]) {
        var found: stat?
        var below: [Int32] = []
        for lower in lowers {
            let fd = berth_openat2(lower, path, UInt64(UInt32(bitPattern: pathOnly | O_NOFOLLOW | O_CLOEXEC)), 0,
                                   UInt64(BERTH_RESOLVE_IN_ROOT | BERTH_RESOLVE_NO_MAGICLINKS))
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0 { break }
            if found == nil { found = st }
            guard (st.st_mode & S_IFMT) == S_IFDIR else { break }
            below.append(lower)
            if isOpaque("/proc/self/fd/\(fd)", follow: true) { break }
        }
        return (found, below)
    }

    private func sameDirectory(_ a: stat, _ b: stat?) -> Bool {
        guard let b, (b.st_mode & S_IFMT) == S_IFDIR else { return false }
        return a.st_mode == b.st_mode && a.st_uid == b.st_uid && a.st_gid == b.st_gid
            && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec
    }

    /// Whether `trusted.overlay.opaque` is `y` on `path` (its final link followed only when
    /// `follow`, as for a `/proc/self/fd` link to a descriptor of ours).
    private func isOpaque(_ path: String, follow: Bool) -> Bool {
        var value: UInt8 = 0
        let n = follow ? berth_getxattr(path, "trusted.overlay.opaque", &value, 1) : berth_lgetxattr(path, "trusted.overlay.opaque", &value, 1)
        return n == 1 && value == 0x79
    }

    /// The names in `dir`, without `.` and `..`.
    static func names(_ dir: Int32, path: String) throws -> [String] {
        let copy = dup(dir)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw SnapshotError.fileSystem(operation: "read directory", path: path, errno: errno)
        }
        defer { closedir(stream) }
        var result: [String] = []
        while let item = readdir(stream) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { result.append(name) }
        }
        return result
    }
}

extension OverlaySnapshotter {
    /// Disk space used by the container's writable layer, in bytes (docker's `SizeRw`):
    /// allocated blocks of everything in its upper directory, hard links counted once.
    public func usage(container id: String) throws -> Int64 {
        _ = try lowerDirectories(container: id)
        return try DiskUsage.bytes(under: upperDirectory(container: id))
    }
}
