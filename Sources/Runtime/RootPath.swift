import BerthSystem
import CBerthSys
import Glibc

/// Paths inside a container's root file system, resolved with `openat2(RESOLVE_IN_ROOT)` so
/// that no symlink or `..` in the image can lead outside the root (CVE-2021-30465). Mounts are
/// then made on `/proc/self/fd/N` of the resolved descriptor, never on a re-resolved path.
struct RootPath {
    /// An `O_PATH` descriptor of the root file system.
    let rootFD: Int32

    enum Kind { case directory, file }

    /// Opens `path` (absolute inside the root) as an `O_PATH` descriptor.
    func open(_ path: String) throws -> Int32 {
        let relative = Paths.components(path).joined(separator: "/")
        let fd = berth_openat2(rootFD, relative.isEmpty ? "." : relative,
                               UInt64(O_PATH | O_CLOEXEC), 0, UInt64(BERTH_RESOLVE_IN_ROOT))
        if fd < 0 { throw RuntimeError.errno("resolve \(path) in the container root") }
        return fd
    }

    /// Opens `path`, creating it (and missing parents as directories) as `kind` when absent.
    /// A dangling symlink on the way is followed inside the root: what it names is created
    /// there, as runc's securejoin does, never on the host.
    func ensure(_ path: String, as kind: Kind, mode: mode_t = 0o755) throws -> Int32 {
        try ensure(path, as: kind, mode: mode, depth: 0)
    }

    private func ensure(_ path: String, as kind: Kind, mode: mode_t, depth: Int) throws -> Int32 {
        if let fd = try? open(path) { return fd }
        let components = Paths.components(path)
        guard let last = components.last, errno == ENOENT else {
            throw RuntimeError.errno("resolve \(path) in the container root")
        }
        guard depth < 40 else {
            throw RuntimeError.unsafeMount(destination: path, reason: "too many levels of symbolic links")
        }
        let parent = try ensure("/" + components.dropLast().joined(separator: "/"), as: .directory, mode: mode, depth: depth + 1)
        defer { close(parent) }
        if let target = RootPath.readLink(parent, last) {
            let base = target.hasPrefix("/") ? "/" : pathInRoot(of: parent)
            close(try ensure(Paths.resolve(target, relativeTo: base), as: kind, mode: mode, depth: depth + 1))
            return try open(path)
        }
        switch kind {
        case .directory:
            if mkdirat(parent, last, mode) != 0 && errno != EEXIST {
                throw RuntimeError.errno("create directory \(path) in the container root")
            }
        case .file:
            let fd = openat(parent, last, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o644)
            if fd < 0 && errno != EEXIST { throw RuntimeError.errno("create file \(path) in the container root") }
            if fd >= 0 { close(fd) }
        }
        return try open(path)
    }

    /// The target of the symlink `name` in directory `directory`; nil if it is not one.
    private static func readLink(_ directory: Int32, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlinkat(directory, name, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Where a descriptor inside the root lies, as a path from the root.
    private func pathInRoot(of fd: Int32) -> String {
        guard let root = RootPath.readLink(AT_FDCWD, RootPath.procPath(rootFD)),
              let full = RootPath.readLink(AT_FDCWD, RootPath.procPath(fd)) else { return "/" }
        if full == root { return "/" }
        return full.hasPrefix(root + "/") ? String(full.dropFirst(root.count)) : "/"
    }

    /// Whether the last component of `path` is a symlink (parents resolved in the root).
    func isSymlink(_ path: String) -> Bool {
        let components = Paths.components(path)
        guard let last = components.last,
              let parent = try? open("/" + components.dropLast().joined(separator: "/")) else { return false }
        defer { close(parent) }
        var st = stat()
        return fstatat(parent, last, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }

    /// The magic-link path through which a descriptor is used as a mount target.
    static func procPath(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }

    /// Whether the descriptor names a directory.
    static func isDirectory(_ fd: Int32) -> Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}

/// O_PATH (a GNU extension Swift's Glibc module does not expose): a descriptor that names a
/// file without opening it for I/O.
let O_PATH: Int32 = 0o10000000
