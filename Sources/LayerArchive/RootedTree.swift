import CBerthSys
import Glibc

/// A directory that nothing may escape: every path under it is resolved with
/// `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`, so `..` and symbolic links (absolute or
/// relative) resolve as if the directory were `/`, and every change is made with an `*at` call
/// on the final name relative to a resolved parent, never following a link in that name.
final class RootedTree {
    /// An `O_PATH` descriptor of the root directory.
    let rootFD: Int32

    init(path: String) throws {
        let fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw LayerError.fileSystem(entry: path, operation: "open target directory", errno: errno) }
        rootFD = fd
    }

    deinit { close(rootFD) }

    /// Opens the existing directory `path` (resolved in the root) as an `O_PATH` descriptor, or
    /// returns -1 with errno set.
    func resolve(_ path: EntryPath, flags: Int32 = O_PATH | O_DIRECTORY) -> Int32 {
        withCString(path.relative) { name in
            var fd: Int32
            repeat {
                fd = berth_openat2(rootFD, name, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), 0,
                                   UInt64(BERTH_RESOLVE_IN_ROOT | BERTH_RESOLVE_NO_MAGICLINKS | BERTH_RESOLVE_NO_XDEV))
            } while fd < 0 && errno == EAGAIN
            return fd
        }
    }

    /// Opens directory `path`, creating it and any missing parents (mode 0755, owned by the
    /// caller) inside the root. `entry` names the tar entry for errors.
    func directory(_ path: EntryPath, entry: String) throws -> Int32 {
        let fd = resolve(path)
        if fd >= 0 { return fd }
        let code = errno
        guard code == ENOENT, let name = path.name else {
            if code == ENOTDIR || code == ENOENT { throw LayerError.parentNotDirectory(entry: entry) }
            throw LayerError.fileSystem(entry: entry, operation: "resolve parent directory", errno: code)
        }
        let parent = try directory(path.parent, entry: entry)
        defer { close(parent) }
        let made = withCString(name) { mkdirat(parent, $0, 0o755) }
        if made != 0 && errno != EEXIST {
            throw LayerError.fileSystem(entry: entry, operation: "create parent directory", errno: errno)
        }
        let again = resolve(path)
        guard again >= 0 else {
            // The name exists but is not a directory, or a link in this layer dangles.
            throw LayerError.parentNotDirectory(entry: entry)
        }
        return again
    }

    /// The `lstat` of `name` in `parent`, or nil when nothing is there.
    func status(_ parent: Int32, _ name: [UInt8]) -> stat? {
        var st = stat()
        let r = withCString(name) { fstatat(parent, $0, &st, AT_SYMLINK_NOFOLLOW) }
        return r == 0 ? st : nil
    }

    /// Removes whatever is at `name` in `parent` (a whole tree for a directory), never
    /// following a symbolic link. Nothing there is fine.
    func removeExisting(_ parent: Int32, _ name: [UInt8], entry: String) throws {
        let r = withCString(name) { unlinkat(parent, $0, 0) }
        if r == 0 || errno == ENOENT { return }
        guard errno == EISDIR else {
            throw LayerError.fileSystem(entry: entry, operation: "remove existing entry", errno: errno)
        }
        try removeTree(parent, name, entry: entry)
    }

    private func removeTree(_ parent: Int32, _ name: [UInt8], entry: String) throws {
        let fd = withCString(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw LayerError.fileSystem(entry: entry, operation: "open directory to replace", errno: errno) }
        guard let dir = fdopendir(fd) else {
            close(fd)
            throw LayerError.fileSystem(entry: entry, operation: "read directory to replace", errno: errno)
        }
        defer { closedir(dir) }
        var children: [[UInt8]] = []
        while let item = readdir(dir) {
            let child = directoryEntryName(item)
            if child != [0x2e] && child != [0x2e, 0x2e] { children.append(child) }
        }
        for child in children { try removeExisting(fd, child, entry: entry) }
        let r = withCString(name) { unlinkat(parent, $0, AT_REMOVEDIR) }
        if r != 0 && errno != ENOENT {
            throw LayerError.fileSystem(entry: entry, operation: "remove replaced directory", errno: errno)
        }
    }
}

/// The name of a `readdir` entry as bytes.
func directoryEntryName(_ item: UnsafeMutablePointer<dirent>) -> [UInt8] {
    withUnsafeBytes(of: item.pointee.d_name) { raw in
        Array(raw.prefix { $0 != 0 })
    }
}

/// `/proc/self/fd/<fd>/<name>`: a path for the `l*xattr` calls that have no `*at` form. The
/// descriptor part is our own resolved directory; the final name is not followed by them.
func procPath(_ fd: Int32, _ name: [UInt8]) -> [UInt8] {
    Array("/proc/self/fd/\(fd)/".utf8) + name
}
