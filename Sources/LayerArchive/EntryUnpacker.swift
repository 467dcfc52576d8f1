import CArchive
import CBerthSys
import Glibc

private let whiteoutPrefix: [UInt8] = Array(".wh.".utf8)
private let metaPrefix: [UInt8] = Array(".wh..wh.".utf8)
private let opaqueName: [UInt8] = Array(".wh..wh..opq".utf8)

/// Turns tar entries into files under a `RootedTree`, one at a time.
struct EntryUnpacker {
    let tree: RootedTree
    let reader: TarReader
    let limits: LayerLimits
    let options: ExtractionOptions
    /// Directories whose times are set at the end, once their content stopped changing them.
    private var directoryTimes: [(path: EntryPath, times: [timespec])] = []

    init(tree: RootedTree, reader: TarReader, limits: LayerLimits, options: ExtractionOptions) {
        self.tree = tree
        self.reader = reader
        self.limits = limits
        self.options = options
    }

    mutating func unpack(_ entry: OpaquePointer) throws {
        let raw = bytes(archive_entry_pathname(entry)) ?? bytes(archive_entry_pathname_utf8(entry)) ?? []
        let shown = displayName(raw)
        guard raw.count <= limits.maxPathLength else { throw LayerError.pathTooLong(entry: shown, limit: limits.maxPathLength) }
        guard let path = EntryPath(raw) else { throw LayerError.pathEscapesRoot(entry: shown) }
        var meta = try EntryMetadata(entry, shown: shown, pathBytes: raw.count, limits: limits)
        (meta.uid, meta.gid) = options.owner(meta.uid, meta.gid)
        if let permissions = options.permissions, meta.type != S_IFLNK { meta.permissions = permissions & 0o7777 }

        // Whiteouts and AUFS metadata (image-spec layer.md, "Whiteouts").
        if options.whiteouts, path.components.dropLast().contains(where: { $0.starts(with: metaPrefix) }) { return }
        if options.whiteouts, let name = path.name, name.starts(with: whiteoutPrefix) {
            if name == opaqueName { return try markOpaque(path.parent, entry: shown) }
            if name.starts(with: metaPrefix) { return }
            return try whiteout(path, hiding: Array(name.dropFirst(whiteoutPrefix.count)), entry: shown)
        }

        guard let name = path.name else {
            guard meta.type == S_IFDIR else {
                throw LayerError.unsupportedEntryType(entry: shown, type: "non-directory named like the layer root")
            }
            return try updateRoot(meta, entry: shown)
        }
        let parent = try tree.directory(path.parent, entry: shown)
        defer { close(parent) }
        if options.noOverwriteDirNonDir, let existing = tree.status(parent, name) {
            let existingIsDirectory = (existing.st_mode & S_IFMT) == S_IFDIR
            let newIsDirectory = archive_entry_hardlink(entry) == nil && meta.type == S_IFDIR
            if existingIsDirectory != newIsDirectory {
                throw LayerError.wouldReplace(entry: shown, directoryWithNonDirectory: existingIsDirectory)
            }
        }

        if let target = archive_entry_hardlink(entry) {
            return try link(path, parent: parent, name: name, target: bytes(target) ?? [], entry: shown)
        }
        switch meta.type {
        case S_IFREG: try writeFile(parent: parent, name: name, meta: meta, size: archive_entry_size(entry), entry: shown)
        case S_IFDIR: try makeDirectory(path, parent: parent, name: name, meta: meta, entry: shown)
        case S_IFLNK:
            try tree.removeExisting(parent, name, entry: shown)
            let target = bytes(archive_entry_symlink(entry)) ?? []
            let r = withCString(target) { t in withCString(name) { symlinkat(t, parent, $0) } }
            guard r == 0 else { throw LayerError.fileSystem(entry: shown, operation: "symlink", errno: errno) }
            try meta.applyByName(parent: parent, name: name, entry: shown)
        case S_IFCHR, S_IFBLK, S_IFIFO:
            try tree.removeExisting(parent, name, entry: shown)
            let device = berth_makedev(UInt32(truncatingIfNeeded: archive_entry_rdevmajor(entry)),
                                       UInt32(truncatingIfNeeded: archive_entry_rdevminor(entry)))
            let r = withCString(name) { mknodat(parent, $0, meta.type | (meta.permissions & 0o777), dev_t(device)) }
            guard r == 0 else { throw LayerError.fileSystem(entry: shown, operation: "mknod", errno: errno) }
            try meta.applyByName(parent: parent, name: name, entry: shown)
        case S_IFSOCK: throw LayerError.unsupportedEntryType(entry: shown, type: "socket")
        default: throw LayerError.unsupportedEntryType(entry: shown, type: "file of unknown type")
        }
    }

    /// Sets the recorded directory times; call after the last entry.
    func finish() {
        for (path, times) in directoryTimes {
            guard let name = path.name else {
                let fd = tree.resolve(path, flags: O_RDONLY | O_DIRECTORY)
                guard fd >= 0 else { continue }
                futimens(fd, times)
                close(fd)
                continue
            }
            let parent = tree.resolve(path.parent)
            guard parent >= 0 else { continue }
            defer { close(parent) }
            // Only if a later entry did not replace the directory with something else.
            guard let st = tree.status(parent, name), (st.st_mode & S_IFMT) == S_IFDIR else { continue }
            _ = withCString(name) { utimensat(parent, $0, times, AT_SYMLINK_NOFOLLOW) }
        }
    }

    private func markOpaque(_ directory: EntryPath, entry: String) throws {
        let fd = try tree.directory(directory, entry: entry)
        defer { close(fd) }
        // setxattr (not l-) follows the /proc magic link to the directory itself.
        let r = withCString(Array("/proc/self/fd/\(fd)".utf8)) { setxattr($0, "trusted.overlay.opaque", "y", 1, 0) }
        guard r == 0 else { throw LayerError.fileSystem(entry: entry, operation: "mark directory opaque", errno: errno) }
    }

    private func whiteout(_ path: EntryPath, hiding hidden: [UInt8], entry: String) throws {
        guard !hidden.isEmpty, hidden != [0x2e], hidden != [0x2e, 0x2e] else { throw LayerError.invalidWhiteout(entry: entry) }
        let parent = try tree.directory(path.parent, entry: entry)
        defer { close(parent) }
        // A whiteout hides lower layers only: what this layer itself put there stays.
        if tree.status(parent, hidden) != nil { return }
        let r = withCString(hidden) { mknodat(parent, $0, S_IFCHR, dev_t(berth_makedev(0, 0))) }
        guard r == 0 else { throw LayerError.fileSystem(entry: entry, operation: "create whiteout", errno: errno) }
    }

    private func link(_ path: EntryPath, parent: Int32, name: [UInt8], target raw: [UInt8], entry: String) throws {
        let shownTarget = displayName(raw)
        guard let target = EntryPath(raw), let targetName = target.name else {
            throw LayerError.invalidHardlink(entry: entry, target: shownTarget)
        }
        if target == path { return }
        let targetParent = tree.resolve(target.parent)
        guard targetParent >= 0 else { throw LayerError.invalidHardlink(entry: entry, target: shownTarget) }
        defer { close(targetParent) }
        guard let st = tree.status(targetParent, targetName), (st.st_mode & S_IFMT) != S_IFDIR else {
            throw LayerError.invalidHardlink(entry: entry, target: shownTarget)
        }
        try tree.removeExisting(parent, name, entry: entry)
        // Flags 0: a link to a symbolic link links the link itself, never what it points to.
        let r = withCString(targetName) { t in withCString(name) { linkat(targetParent, t, parent, $0, 0) } }
        guard r == 0 else { throw LayerError.fileSystem(entry: entry, operation: "hard link", errno: errno) }
    }

    private func writeFile(parent: Int32, name: [UInt8], meta: EntryMetadata, size: Int64, entry: String) throws {
        try tree.removeExisting(parent, name, entry: entry)
        let fd = withCString(name) { openat(parent, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        guard fd >= 0 else { throw LayerError.fileSystem(entry: entry, operation: "create file", errno: errno) }
        defer { close(fd) }
        let end = try reader.readData { offset, block in
            let code = writeFully(fd, block, at: offset)
            guard code == 0 else { throw LayerError.fileSystem(entry: entry, operation: "write file", errno: code) }
        }
        if end < size && ftruncate(fd, off_t(size)) != 0 {
            throw LayerError.fileSystem(entry: entry, operation: "extend sparse file", errno: errno)
        }
        try meta.apply(fd: fd, entry: entry)
    }

    private mutating func makeDirectory(_ path: EntryPath, parent: Int32, name: [UInt8], meta: EntryMetadata, entry: String) throws {
        if let st = tree.status(parent, name), (st.st_mode & S_IFMT) == S_IFDIR {
            // A directory over a directory merges: keep the content, take the new attributes.
        } else {
            try tree.removeExisting(parent, name, entry: entry)
            let r = withCString(name) { mkdirat(parent, $0, 0o700) }
            guard r == 0 else { throw LayerError.fileSystem(entry: entry, operation: "create directory", errno: errno) }
        }
        let fd = withCString(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw LayerError.fileSystem(entry: entry, operation: "open directory", errno: errno) }
        defer { close(fd) }
        try meta.apply(fd: fd, entry: entry, times: false)
        directoryTimes.append((path, meta.times))
    }

    private mutating func updateRoot(_ meta: EntryMetadata, entry: String) throws {
        let fd = tree.resolve(EntryPath.root, flags: O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw LayerError.fileSystem(entry: entry, operation: "open layer root", errno: errno) }
        defer { close(fd) }
        try meta.apply(fd: fd, entry: entry, times: false)
        directoryTimes.append((EntryPath.root, meta.times))
    }
}

/// The bytes of a C string, or nil for a null pointer.
func bytes(_ string: UnsafePointer<CChar>?) -> [UInt8]? {
    guard let string else { return nil }
    return Array(UnsafeRawBufferPointer(start: string, count: strlen(string)))
}
