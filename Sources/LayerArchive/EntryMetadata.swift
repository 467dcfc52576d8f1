import CArchive
import Glibc

/// Overlay metadata a layer may not carry: taken from a layer it would forge whiteouts, opaque
/// directories or redirects. The `trusted.` form (what Berth's overlay mounts read) refuses the
/// layer; the `user.` form (read only by rootless `userxattr` mounts) is dropped, so images
/// committed from such uppers still unpack.
private let forbiddenXattrPrefix = "trusted.overlay."
private let droppedXattrPrefix = "user.overlay."

/// Ownership, permissions, times and extended attributes of one tar entry, checked against the
/// limits before anything is created.
struct EntryMetadata {
    let type: mode_t
    var permissions: mode_t
    var uid: uid_t
    var gid: gid_t
    /// atime and mtime, as `utimensat` takes them.
    let times: [timespec]
    let xattrs: [(name: String, value: [UInt8])]

    init(_ entry: OpaquePointer, shown: String, pathBytes: Int, limits: LayerLimits) throws {
        type = archive_entry_filetype(entry) & S_IFMT
        permissions = archive_entry_perm(entry) & 0o7777
        let rawUID = archive_entry_uid(entry)
        let rawGID = archive_entry_gid(entry)
        // (uid_t)-1 means "unchanged" to chown, so it cannot be an owner either.
        guard let uid = uid_t(exactly: rawUID), let gid = gid_t(exactly: rawGID), uid != uid_t.max, gid != gid_t.max else {
            throw LayerError.invalidOwner(entry: shown, uid: rawUID, gid: rawGID)
        }
        self.uid = uid
        self.gid = gid
        let mtime = timespec(tv_sec: archive_entry_mtime(entry), tv_nsec: archive_entry_mtime_nsec(entry))
        let atime = archive_entry_atime_is_set(entry) != 0
            ? timespec(tv_sec: archive_entry_atime(entry), tv_nsec: archive_entry_atime_nsec(entry)) : mtime
        times = [atime, mtime]

        let link = archive_entry_hardlink(entry) ?? archive_entry_symlink(entry)
        var headerBytes = pathBytes + (link.map { strlen($0) } ?? 0)
        var xattrs: [(name: String, value: [UInt8])] = []
        archive_entry_xattr_reset(entry)
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK {
            guard let name else { continue }
            let key = String(cString: name)
            headerBytes += key.utf8.count + size
            guard headerBytes <= limits.maxHeaderBytes else {
                throw LayerError.headerTooLarge(entry: shown, limit: limits.maxHeaderBytes)
            }
            if key.hasPrefix(forbiddenXattrPrefix) { throw LayerError.forbiddenXattr(entry: shown, name: key) }
            if key.hasPrefix(droppedXattrPrefix) { continue }
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            xattrs.append((key, bytes))
        }
        guard headerBytes <= limits.maxHeaderBytes else {
            throw LayerError.headerTooLarge(entry: shown, limit: limits.maxHeaderBytes)
        }
        self.xattrs = xattrs
    }

    /// Applies owner, mode, xattrs and (unless `times` is false) times through an open file.
    /// Owner first: `chown` clears setuid bits and file capabilities set before it.
    func apply(fd: Int32, entry: String, times setTimes: Bool = true) throws {
        guard fchown(fd, uid, gid) == 0 else { throw LayerError.fileSystem(entry: entry, operation: "chown", errno: errno) }
        guard fchmod(fd, permissions) == 0 else { throw LayerError.fileSystem(entry: entry, operation: "chmod", errno: errno) }
        for (name, value) in xattrs {
            let r = value.withUnsafeBytes { fsetxattr(fd, name, $0.baseAddress, $0.count, 0) }
            try check(r, name: name, entry: entry)
        }
        if setTimes && futimens(fd, times) != 0 {
            throw LayerError.fileSystem(entry: entry, operation: "set times", errno: errno)
        }
    }

    /// Applies the same to `name` in `parent` without following it: for symbolic links,
    /// devices and fifos, which cannot be opened for this.
    func applyByName(parent: Int32, name: [UInt8], entry: String) throws {
        let r = withCString(name) { fchownat(parent, $0, uid, gid, AT_SYMLINK_NOFOLLOW) }
        guard r == 0 else { throw LayerError.fileSystem(entry: entry, operation: "chown", errno: errno) }
        if type != S_IFLNK {
            // mknodat is subject to the umask; the node was just made by us and is no link.
            let c = withCString(name) { fchmodat(parent, $0, permissions, 0) }
            guard c == 0 else { throw LayerError.fileSystem(entry: entry, operation: "chmod", errno: errno) }
        }
        if !xattrs.isEmpty {
            try withCString(procPath(parent, name)) { path in
                for (key, value) in xattrs {
                    let x = value.withUnsafeBytes { lsetxattr(path, key, $0.baseAddress, $0.count, 0) }
                    try check(x, name: key, entry: entry)
                }
            }
        }
        let t = withCString(name) { utimensat(parent, $0, times, AT_SYMLINK_NOFOLLOW) }
        guard t == 0 else { throw LayerError.fileSystem(entry: entry, operation: "set times", errno: errno) }
    }

    /// Extended attributes the file system cannot store (e.g. `security.selinux` without an
    /// LSM, `user.*` on a symbolic link) are skipped, as Docker does; other failures are errors.
    private func check(_ result: Int32, name: String, entry: String) throws {
        guard result != 0 else { return }
        let code = errno
        if code == ENOTSUP || code == EOPNOTSUPP || (code == EPERM && type == S_IFLNK) { return }
        throw LayerError.fileSystem(entry: entry, operation: "set extended attribute \(name)", errno: code)
    }
}
