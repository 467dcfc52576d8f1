import CArchive
import CBerthSys
import Glibc
import OCI

/// What writing a layer produced: the descriptor's digest and size, and the diff ID for the
/// image config.
public struct WrittenLayer: Sendable, Equatable {
    /// sha256 of the file as written (compressed).
    public var digest: Digest
    /// Bytes of the file as written.
    public var size: Int64
    /// sha256 of the uncompressed tar.
    public var diffID: Digest

    /// A result with the given values.
    public init(digest: Digest, size: Int64, diffID: Digest) {
        self.digest = digest
        self.size = size
        self.diffID = diffID
    }
}

/// Writes directory trees as tar archives.
///
/// Guarantees: entries are in a deterministic order (each directory's names sorted bytewise,
/// a directory before its content), carry numeric owner, mode, mtime and extended attributes
/// (never the overlay's own `trusted.overlay.*` or `user.overlay.*`), and hard links within
/// the tree are written once and linked after; so the same tree always gives the same diff
/// ID. The tree is walked through descriptors without following symbolic links. On error the
/// output file is removed.
public struct DiffWriter: Sendable {
    /// A writer.
    public init() {}

    /// Writes the OCI changeset of an overlay upper directory as a gzip tar to `outputPath`
    /// (image-spec layer.md, "Whiteouts"): a whiteout (0/0 character device) becomes a
    /// `.wh.NAME` entry, an opaque directory (`trusted.overlay.opaque=y`) its directory entry
    /// followed by `.wh..wh..opq`. With `idMap` (a container in a user namespace), owners are
    /// written as the container sees them: host IDs mapped back, unmapped ones as the overflow ID.
    /// The file is fsynced before this returns (the store keeps it); `writeArchive`'s are not.
    public func writeLayer(fromUpper upper: String, to outputPath: String, idMap: IDMap? = nil) throws -> WrittenLayer {
        try write(upper, to: outputPath, compression: .gzip, overlay: true, idMap: idMap)
    }

    /// Writes every file under `directory` as they are (device nodes stay device nodes), for
    /// `export` and `import`; `compression` picks the file format (plain by default). With
    /// `idMap`, owners are written as that user namespace sees them.
    /// An entry whose path (`a/b`) `excluding` accepts is left out with everything below it.
    /// `appending` files are written after the tree, in their order, instead of any entry of
    /// the tree at the same path.
    public func writeArchive(of directory: String, to outputPath: String,
                             compression: LayerCompression = .plain, idMap: IDMap? = nil,
                             excluding: (@Sendable (String) -> Bool)? = nil, appending: [ArchiveFile] = []) throws -> WrittenLayer {
        let replaced = Set(appending.map(\.path))
        let test: (([UInt8]) -> Bool)? = excluding == nil && replaced.isEmpty ? nil : { path in
            let text = String(decoding: path, as: UTF8.self)
            return replaced.contains(text) || excluding?(text) == true
        }
        return try write(directory, to: outputPath, compression: compression, overlay: false, idMap: idMap, excluding: test, appending: appending)
    }

    /// Writes the single file system object `name` of directory `parent` (a directory with
    /// everything below it) as a plain tar whose top entry is `archivedName` (`docker cp`'s
    /// download). Owners are written as `idMap`'s container sees them. Links are never followed.
    /// An entry whose path below the top one (`a/b`, no leading `./`) `excluding` accepts is
    /// left out with everything below it.
    public func writeArchive(ofEntry name: String, in parent: Int32, as archivedName: String, to outputPath: String,
                             idMap: IDMap? = nil, excluding: (@Sendable (String) -> Bool)? = nil) throws -> WrittenLayer {
        do {
            let sink = try ArchiveSink(path: outputPath, compression: .plain, durable: false)
            let walker = TreeWalker(sink: sink, overlay: false, idMap: idMap)
            walker.excluding = excluding.map { test in
                let top = Array(archivedName.utf8)
                return { path in
                    guard path.count > top.count + 1, path.starts(with: top) else { return false }
                    return test(String(decoding: path[(top.count + 1)...], as: UTF8.self))
                }
            }
            try walker.writeEntry(parent, Array(name.utf8), path: Array(archivedName.utf8))
            return try sink.finish()
        } catch {
            unlink(outputPath)
            throw error
        }
    }

    /// Writes what the directory `name` of `parent` holds (not the directory itself) as a plain
    /// tar of relative entries, leaving out what `excluding` accepts (by the entry's path).
    /// Links are never followed.
    public func writeArchive(contentsOf name: String, in parent: Int32, to outputPath: String,
                             excluding: (@Sendable (String) -> Bool)? = nil) throws -> WrittenLayer {
        do {
            let directory = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard directory >= 0 else { throw LayerError.fileSystem(entry: name, operation: "open directory", errno: errno) }
            defer { close(directory) }
            let sink = try ArchiveSink(path: outputPath, compression: .plain, durable: false)
            let walker = TreeWalker(sink: sink, overlay: false, idMap: nil)
            walker.excluding = excluding.map { test in { test(String(decoding: $0, as: UTF8.self)) } }
            try walker.walkDirectory(directory, prefix: [])
            return try sink.finish()
        } catch {
            unlink(outputPath)
            throw error
        }
    }

    private func write(_ directory: String, to outputPath: String, compression: LayerCompression,
                       overlay: Bool, idMap: IDMap?, excluding: (([UInt8]) -> Bool)? = nil, appending: [ArchiveFile] = []) throws -> WrittenLayer {
        do {
            let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard root >= 0 else { throw LayerError.fileSystem(entry: directory, operation: "open directory", errno: errno) }
            defer { close(root) }
            let sink = try ArchiveSink(path: outputPath, compression: compression, durable: overlay)
            let walker = TreeWalker(sink: sink, overlay: overlay, idMap: idMap)
            walker.excluding = excluding
            try walker.walkDirectory(root, prefix: [])
            for file in appending { try walker.write(file) }
            return try sink.finish()
        } catch {
            unlink(outputPath)
            throw error
        }
    }
}

/// A regular file an archive gets from memory (owned by root, stamped with the current time).
public struct ArchiveFile: Sendable {
    /// Its path in the archive (`a/b`).
    public var path: String
    public var bytes: [UInt8]
    public var mode: mode_t

    /// A file of `bytes` at `path`.
    public init(path: String, bytes: [UInt8], mode: mode_t = 0o600) {
        self.path = path
        self.bytes = bytes
        self.mode = mode
    }
}

/// Emits one directory's entries, then recurses.
private final class TreeWalker {
    let sink: ArchiveSink
    let overlay: Bool
    let idMap: IDMap?
    /// First path written for each multiply-linked inode.
    var links: [HardlinkKey: [UInt8]] = [:]
    /// Entries (by their archive path) left out with everything below them.
    var excluding: (([UInt8]) -> Bool)?
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: layerBufferSize, alignment: 16)

    init(sink: ArchiveSink, overlay: Bool, idMap: IDMap?) {
        self.sink = sink
        self.overlay = overlay
        self.idMap = idMap
    }

    /// Sets the entry's owner as the tree's user sees it. Whiteouts (`mapped` false) keep
    /// their IDs: the kernel makes them with the mounter's (0:0), as docker also keeps them.
    private func setOwner(_ entry: OpaquePointer, _ st: stat, mapped: Bool = true) {
        let map = mapped ? idMap : nil
        archive_entry_set_uid(entry, la_int64_t(map?.containerUID(ofHost: st.st_uid) ?? st.st_uid))
        archive_entry_set_gid(entry, la_int64_t(map?.containerGID(ofHost: st.st_gid) ?? st.st_gid))
    }

    deinit { buffer.deallocate() }

    func walkDirectory(_ dir: Int32, prefix: [UInt8]) throws {
        for name in try sortedNames(dir, entry: prefix) {
            try writeEntry(dir, name, path: prefix.isEmpty ? name : prefix + [0x2f] + name)
        }
    }

    /// Writes `name` of `dir` as the entry `path` (and, for a directory, all below it).
    func writeEntry(_ dir: Int32, _ name: [UInt8], path: [UInt8]) throws {
        if let excluding, excluding(path) { return }
        var st = stat()
        guard withCString(name, { fstatat(dir, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            // Removed since the directory was listed (a running container): not in the layer.
            if errno == ENOENT { return }
            throw LayerError.fileSystem(entry: displayName(path), operation: "stat", errno: errno)
        }
        let type = st.st_mode & S_IFMT
        if type == S_IFSOCK { return }
        let entry = try newEntry()
        defer { archive_entry_free(entry) }
        let isWhiteout = overlay && type == S_IFCHR && st.st_rdev == 0
        withCString(isWhiteout ? whiteoutPath(path, name) : path) { archive_entry_copy_pathname(entry, $0) }
        setOwner(entry, st, mapped: !isWhiteout)
        archive_entry_set_mtime(entry, st.st_mtim.tv_sec, st.st_mtim.tv_nsec)
        if isWhiteout {
            archive_entry_set_mode(entry, S_IFREG | (st.st_mode & 0o777))
            try sink.writeHeader(entry)
            return
        }
        archive_entry_set_mode(entry, st.st_mode)
        var opaque = false
        let attributes: [(String, [UInt8])]
        do {
            attributes = try extendedAttributes(dir, name, path: path)
        } catch LayerError.fileSystem(_, _, ENOENT) {
            // Removed since the stat (a running container): not in the layer.
            return
        }
        for (key, value) in attributes {
            if key == "trusted.overlay.opaque" { opaque = value == [0x79] }
            if key.hasPrefix("trusted.overlay.") || key.hasPrefix("user.overlay.") { continue }
            value.withUnsafeBytes { archive_entry_xattr_add_entry(entry, key, $0.baseAddress, $0.count) }
        }
        switch type {
        case S_IFREG: try writeFile(dir, name, path: path, status: st, entry: entry)
        case S_IFLNK:
            let target = try readLink(dir, name, path: path)
            withCString(target) { archive_entry_copy_symlink(entry, $0) }
            try sink.writeHeader(entry)
        case S_IFCHR, S_IFBLK:
            archive_entry_set_rdevmajor(entry, dev_t(berth_major(UInt(st.st_rdev))))
            archive_entry_set_rdevminor(entry, dev_t(berth_minor(UInt(st.st_rdev))))
            try sink.writeHeader(entry)
        case S_IFDIR:
            try sink.writeHeader(entry)
            if overlay && opaque { try writeOpaqueMarker(path, status: st) }
            let child = withCString(name) { openat(dir, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard child >= 0 else { throw LayerError.fileSystem(entry: displayName(path), operation: "open directory", errno: errno) }
            defer { close(child) }
            try walkDirectory(child, prefix: path)
        default:
            try sink.writeHeader(entry)
        }
    }

    private func writeFile(_ dir: Int32, _ name: [UInt8], path: [UInt8], status st: stat, entry: OpaquePointer) throws {
        let key = HardlinkKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        if st.st_nlink > 1, let first = links[key] {
            withCString(first) { archive_entry_copy_hardlink(entry, $0) }
            archive_entry_set_size(entry, 0)
            return try sink.writeHeader(entry)
        }
        archive_entry_set_size(entry, la_int64_t(st.st_size))
        // The tree may belong to a running container, which can swap the file for a FIFO (an
        // open that blocks), a device node (host bytes in the layer) or a link after the stat:
        // open without blocking or following, then check the descriptor is the file stat saw.
        let fd = withCString(name) { openat(dir, $0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) }
        // Removed since the stat: not in the layer.
        if fd < 0 && errno == ENOENT { return }
        guard fd >= 0 else { throw LayerError.fileSystem(entry: displayName(path), operation: "open file", errno: errno) }
        defer { close(fd) }
        var opened = stat()
        guard fstat(fd, &opened) == 0 else { throw LayerError.fileSystem(entry: displayName(path), operation: "stat file", errno: errno) }
        guard opened.st_mode & S_IFMT == S_IFREG, opened.st_ino == st.st_ino, opened.st_dev == st.st_dev else {
            throw LayerError.changedWhileReading(entry: displayName(path))
        }
        if st.st_nlink > 1 { links[key] = path }
        try sink.writeHeader(entry)
        var remaining = Int64(st.st_size)
        while remaining > 0 {
            let n = read(fd, buffer.baseAddress, Int(min(Int64(buffer.count), remaining)))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw LayerError.fileSystem(entry: displayName(path), operation: "read file", errno: errno) }
            // A file that shrank while being read is padded by libarchive to its header size.
            if n == 0 { break }
            try sink.writeData(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            remaining -= Int64(n)
        }
    }

    /// Writes a file held in memory.
    func write(_ file: ArchiveFile) throws {
        let entry = try newEntry()
        defer { archive_entry_free(entry) }
        archive_entry_copy_pathname(entry, file.path)
        archive_entry_set_mode(entry, S_IFREG | (file.mode & 0o7777))
        archive_entry_set_size(entry, la_int64_t(file.bytes.count))
        archive_entry_set_mtime(entry, time(nil), 0)
        try sink.writeHeader(entry)
        try file.bytes.withUnsafeBytes { try sink.writeData($0) }
    }

    private func writeOpaqueMarker(_ directory: [UInt8], status st: stat) throws {
        let marker = try newEntry()
        defer { archive_entry_free(marker) }
        withCString(directory + Array("/.wh..wh..opq".utf8)) { archive_entry_copy_pathname(marker, $0) }
        archive_entry_set_mode(marker, S_IFREG | 0o644)
        setOwner(marker, st)
        archive_entry_set_mtime(marker, st.st_mtim.tv_sec, st.st_mtim.tv_nsec)
        try sink.writeHeader(marker)
    }

    /// `dir/.wh.name` for the entry `dir/name`.
    private func whiteoutPath(_ path: [UInt8], _ name: [UInt8]) -> [UInt8] {
        Array(path.dropLast(name.count)) + Array(".wh.".utf8) + name
    }
}

/// A fresh libarchive entry; the caller frees it.
func newEntry() throws -> OpaquePointer {
    guard let entry = archive_entry_new() else { throw LayerError.writeFailed(path: "", reason: "out of memory") }
    return entry
}

private struct HardlinkKey: Hashable {
    let device: UInt64
    let inode: UInt64
}
