import CBerthSys
import Glibc

/// Plain file-system operations shared by the store, the snapshotter, the engine and the
/// monitor, written on Glibc so the small executables need no Foundation.
///
/// `writeAtomically` is the one way Berth replaces a file others rely on: a reader sees the old
/// content or the new, never a mix, even if the process dies mid-write.
public enum FileSystem {
    /// Creates `path` and any missing parents with `mode`; existing directories are fine.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw FileSystemError(operation: "create directory \(current)", errno: errno)
            }
        }
    }

    /// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path` and
    /// fsyncs the directory. With `durable: false` the fsyncs are skipped: the replacement is
    /// still atomic for every reader and across a crash of the process, but not across a power
    /// loss — for files regenerated from durable state anyway (a bundle, /etc/hosts) and for
    /// run-time state that means nothing after a power loss (the runtime's and the monitors'
    /// records under /run: the containers they describe died with the machine).
    public static func writeAtomically(_ path: String, bytes: [UInt8], mode: mode_t = 0o644, durable: Bool = true) throws {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileSystemError(operation: "create \(temporary)", errno: errno) }
        do {
            try writeAll(fd, bytes)
            if durable {
                guard fsync(fd) == 0 else { throw FileSystemError(operation: "fsync \(temporary)", errno: errno) }
            }
            close(fd)
            guard rename(temporary, path) == 0 else { throw FileSystemError(operation: "rename to \(path)", errno: errno) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        if durable { syncDirectory(parent(of: path)) }
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        try writeAll(fd, bytes[...])
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(operation: "write", errno: errno)
            }
            done += n
        }
    }

    /// The whole content of the file at `path`.
    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError(operation: "open \(path)", errno: errno) }
        defer { close(fd) }
        return try readAll(fd)
    }

    /// The content of the regular file `path` inside the directory tree `root`, resolved as if
    /// `root` were `/` (a symbolic link in the tree cannot lead outside it), opened without
    /// blocking and without following a final link. Throws when the path is missing, is not a
    /// regular file (a FIFO, a device, a directory, a link) or holds more than `limit` bytes,
    /// so a hostile tree can neither hang nor exhaust the reader.
    public static func readRegularFile(_ path: String, inRoot root: String, limit: Int) throws -> [UInt8] {
        let rootFD = open(root, berth_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw FileSystemError(operation: "open \(root)", errno: errno) }
        defer { close(rootFD) }
        let flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC
        let fd = berth_openat2(rootFD, path, UInt64(flags), 0, UInt64(BERTH_RESOLVE_IN_ROOT | BERTH_RESOLVE_NO_MAGICLINKS))
        guard fd >= 0 else { throw FileSystemError(operation: "open \(path)", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileSystemError(operation: "stat \(path)", errno: errno) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw FileSystemError(operation: "read \(path) (not a regular file)", errno: EINVAL) }
        let bytes = try readAll(fd, limit: limit + 1)
        guard bytes.count <= limit else { throw FileSystemError(operation: "read \(path) (larger than \(limit) bytes)", errno: EFBIG) }
        return bytes
    }

    /// Copies the file at `source` to `destination` atomically (a temporary file renamed into
    /// place), through the kernel (copy_file_range(2)): the bytes never pass through this
    /// process's memory, so copying a large binary does not grow it.
    public static func copyFile(from source: String, to destination: String, mode: mode_t) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw FileSystemError(operation: "open \(source)", errno: errno) }
        defer { close(input) }
        let temporary = destination + ".tmp-\(getpid())"
        let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard output >= 0 else { throw FileSystemError(operation: "create \(temporary)", errno: errno) }
        do {
            defer { close(output) }
            while true {
                let copied = berth_copy_file_range(input, output, 1 << 30)
                if copied < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError(operation: "copy \(source) to \(temporary)", errno: errno)
                }
                if copied == 0 { break }
            }
            guard fchmod(output, mode) == 0 else { throw FileSystemError(operation: "set the mode of \(temporary)", errno: errno) }
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, destination) == 0 else {
            let code = errno
            unlink(temporary)
            throw FileSystemError(operation: "rename \(temporary) to \(destination)", errno: code)
        }
    }

    /// Writes everything cached of the file system holding `path` to disk (syncfs(2)).
    public static func syncFileSystem(containing path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError(operation: "open \(path)", errno: errno) }
        defer { close(fd) }
        guard berth_syncfs(fd) == 0 else { throw FileSystemError(operation: "sync the file system of \(path)", errno: errno) }
    }

    /// Everything readable from `fd` until end of file, or its first `limit` bytes.
    public static func readAll(_ fd: Int32, limit: Int = .max) throws -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(operation: "read", errno: errno)
            }
            if n == 0 { return result }
            result.append(contentsOf: buffer[0..<min(n, limit - result.count)])
            if result.count >= limit { return result }
        }
    }

    /// Whether anything (file, directory, link) exists at `path`; symlinks are not followed.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Whether `path` is a directory (symlinks not followed).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Names in a directory, without `.` and `..`; empty when it cannot be read.
    public static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes `path` and everything under it without following symlinks and without crossing
    /// into other mounts' content through links. Missing paths are fine.
    public static func removeTree(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return }
            throw FileSystemError(operation: "stat \(path)", errno: errno)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in listDirectory(path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0 && errno != ENOENT { throw FileSystemError(operation: "remove \(path)", errno: errno) }
        } else if unlink(path) != 0 && errno != ENOENT {
            throw FileSystemError(operation: "remove \(path)", errno: errno)
        }
    }

    /// fsyncs a directory so a rename inside it is durable. Best effort.
    public static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    /// The directory part of `path` (`/` for top-level paths).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let p = String(path[..<slash])
        return p.isEmpty ? "/" : p
    }
}

/// A failed file-system call: what was attempted and the system's reason.
public struct FileSystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public let operation: String
    public let errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}
