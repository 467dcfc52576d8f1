import BerthSystem
import Builder
import CBerthSys
import ContentDigest
import Glibc
import LayerArchive

/// The files one COPY or ADD takes from a tree (the build context, or a stage's or an image's
/// root file system mounted for the step): its source patterns matched inside the tree (links
/// on the way followed inside it, never out), hashed by content for the cache and written as
/// the archives the step unpacks.
struct BuildSources {
    /// One matched source: where it lies on the host (no link in the path) and whether it is a
    /// directory, whose content is copied rather than itself.
    struct Item: Sendable, Equatable {
        var hostPath: String
        var name: String
        var isDirectory: Bool
        /// A tar here is unpacked rather than copied (ADD of a context file).
        var unpacks = false
        /// The path the pattern matched, relative to the tree's root (`COPY --parents` keeps it).
        var relativePath = ""
    }

    /// `COPY --exclude` patterns (`.dockerignore` syntax), matched against each path below a
    /// source as the destination will name it; nil: nothing excluded.
    var excluded: DockerIgnore?
    /// `COPY --parents`: each source keeps its path relative to the tree's root.
    var keepsParents = false

    private(set) var items: [Item]

    /// Whether the tree's owners are kept (a stage or an image, as docker keeps them for
    /// `COPY --from`); else files belong to root unless `--chown` says otherwise.
    var keepsOwners = false

    /// The items of several matches together (context files and heredocs).
    init(items: [Item]) {
        self.items = items
    }

    /// Matches `patterns` (Go globs per component, relative to the tree's root; `..` cannot
    /// leave it). A pattern without wildcards must match something; so must the whole list.
    /// With `unpacking` (ADD), matched tars are unpacked into the destination.
    init(root: String, patterns: [String], instruction: String, unpacking: Bool = false) throws {
        let files = ContainerFiles(rootfs: root, mounts: [], readOnlyRootfs: true)
        var found: [Item] = []
        for pattern in patterns {
            let matches: [Item]
            do {
                matches = try Self.expand(pattern, files: files)
            } catch let error as ContainerFilesError {
                // A missing directory on the way, or a link loop: the source is not there.
                if case .notFound = error { throw BuildError.sourceNotFound(instruction: instruction, path: pattern) }
                throw BuildError.unsupported("\(instruction) failed: \(pattern): \(error)")
            }
            if matches.isEmpty && !PathGlob.hasMagic(pattern) {
                throw BuildError.sourceNotFound(instruction: instruction, path: pattern)
            }
            found += matches.map { item in
                var item = item
                item.unpacks = unpacking
                return item
            }
        }
        guard !found.isEmpty else { throw BuildError.unsupported("\(instruction) failed: no source files were specified") }
        self.items = found
    }

    private static func expand(_ pattern: String, files: ContainerFiles) throws -> [Item] {
        var candidates: [String] = [""]
        for component in Paths.components(pattern) {
            if !PathGlob.hasMagic(component) {
                candidates = candidates.map { $0.isEmpty ? component : $0 + "/" + component }
                continue
            }
            var next: [String] = []
            for base in candidates {
                guard let location = try? files.resolve(base.isEmpty ? "/" : base, followFinal: true) else { continue }
                let host = hostPath(location)
                for name in FileSystem.listDirectory(host).sorted() where try PathGlob.matches(component, name) {
                    next.append(base.isEmpty ? name : base + "/" + name)
                }
            }
            candidates = next
        }
        return try candidates.compactMap { candidate in
            let location = try files.resolve(candidate.isEmpty ? "/" : candidate, followFinal: true)
            let host = hostPath(location)
            var st = stat()
            guard lstat(host, &st) == 0 else { return nil }
            // A link is copied as what it points to, under its own name (docker's classic builder).
            let name = Paths.components(candidate).last ?? location.relative.last ?? ""
            return Item(hostPath: host, name: name, isDirectory: (st.st_mode & S_IFMT) == S_IFDIR, relativePath: candidate)
        }
    }

    private static func hostPath(_ location: ContainerFiles.Location) -> String {
        ([location.root] + location.relative).joined(separator: "/")
    }

    // MARK: Content hash

    /// A digest of what the step copies: every entry's path below its source, type,
    /// permission bits, and content (a link's target) — not owners or times, so a fresh
    /// checkout of the same files hashes the same.
    func contentDigest() throws -> String {
        let hasher = DigestHasher()
        hasher.update(text: "exclude \(excluded?.patterns ?? []) parents \(keepsParents)\n")
        for item in includedItems {
            hasher.update(text: "item \(keepsParents ? item.relativePath : item.name) \(item.isDirectory)\n")
            try hash(item.hostPath, as: item.isDirectory ? "." : item.name, into: hasher)
        }
        return hasher.finalize().encoded
    }

    /// The items not excluded themselves.
    private var includedItems: [Item] {
        guard let excluded else { return items }
        return items.filter { !excluded.excludes(keepsParents ? $0.relativePath : $0.name) }
    }

    private func hash(_ host: String, as relative: String, into hasher: DigestHasher) throws {
        if let excluded, relative.hasPrefix("./"), excluded.excludes(String(relative.dropFirst(2))) { return }
        var st = stat()
        guard lstat(host, &st) == 0 else { throw BuildError.sourceNotFound(instruction: "COPY", path: relative) }
        let permissions = String(st.st_mode & 0o7777, radix: 8)
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            hasher.update(text: "d \(relative) \(permissions)\n")
            for name in FileSystem.listDirectory(host).sorted() {
                try hash(host + "/" + name, as: relative + "/" + name, into: hasher)
            }
        case S_IFLNK:
            hasher.update(text: "l \(relative) \(Self.linkTarget(host))\n")
        case S_IFREG:
            hasher.update(text: "f \(relative) \(permissions) \(st.st_size)\n")
            try Self.hashContent(of: host, into: hasher)
        default:
            hasher.update(text: "o \(relative) \(permissions) \(st.st_mode & S_IFMT) \(st.st_rdev)\n")
        }
    }

    private static func linkTarget(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink(path, &buffer, 4096)
        guard count > 0 else { return "" }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func hashContent(of path: String, into hasher: DigestHasher) throws {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw BuildError.sourceNotFound(instruction: "COPY", path: path) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw BuildError.sourceNotFound(instruction: "COPY", path: path) }
            if n == 0 { return }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    // MARK: Archives

    /// Writes each item as an archive into `staging` and answers where in the destination it
    /// is unpacked: a directory's content into `destination`; a file into `destination` as
    /// `destination/<name>` when `destinationIsDirectory`, else as `destination` itself. An
    /// item that `unpacks` and is a tar (plain or compressed as libarchive reads) is unpacked
    /// into `destination` instead, keeping its owners.
    func archives(into staging: String, destination: String, destinationIsDirectory: Bool) throws -> [BuildArchive] {
        var result: [BuildArchive] = []
        let excluding: (@Sendable (String) -> Bool)? = excluded.map { rules in { rules.excludes($0) } }
        for (index, item) in includedItems.enumerated() {
            if item.unpacks && !item.isDirectory && ArchiveDetection.isUnpackableTar(item.hostPath) {
                result.append(BuildArchive(archive: item.hostPath, directory: destination, keepsOwners: true, keepsModes: true))
                continue
            }
            let archive = "\(staging)/source-\(index).tar"
            let parentPath = FileSystem.parent(of: item.hostPath)
            let parent = open(parentPath, berth_O_PATH | O_DIRECTORY | O_CLOEXEC)
            guard parent >= 0 else { throw BuildError.sourceNotFound(instruction: "COPY", path: item.name) }
            defer { close(parent) }
            let hostName = String(item.hostPath.split(separator: "/").last ?? "")
            var directory = destination
            if item.isDirectory && !keepsParents {
                // The content, not the directory itself: the destination keeps (or is made
                // with) its own owner and mode, as docker's.
                _ = try DiffWriter().writeArchive(contentsOf: hostName, in: parent, to: archive, excluding: excluding)
            } else {
                let archivedName: String
                if keepsParents {
                    archivedName = Paths.components(item.relativePath).joined(separator: "/")
                } else if destinationIsDirectory {
                    archivedName = item.name
                } else {
                    archivedName = Paths.components(destination).last ?? item.name
                    directory = FileSystem.parent(of: destination)
                }
                _ = try DiffWriter().writeArchive(ofEntry: hostName, in: parent, as: archivedName, to: archive, excluding: excluding)
            }
            result.append(BuildArchive(archive: archive, directory: directory, keepsOwners: keepsOwners))
        }
        return result
    }
}

/// Tells a tar (plain or compressed) from other files by its first bytes.
public enum ArchiveDetection {
    /// Whether the file at `path` (not followed when a link) starts like a tar: gzip, bzip2,
    /// xz or zstd magic, or `ustar` at offset 257.
    public static func isArchive(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 263)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 4 else { return false }
        if head[0] == 0x1f && head[1] == 0x8b { return true }
        if head[0] == 0x42 && head[1] == 0x5a && head[2] == 0x68 { return true }
        if head[0...3] == [0xfd, 0x37, 0x7a, 0x58] { return true }
        if head[0...3] == [0x28, 0xb5, 0x2f, 0xfd] { return true }
        return n >= 262 && Array(head[257..<262]) == Array("ustar".utf8)
    }

    /// Whether the file at `path` is a tar ADD unpacks: it looks like one and its first
    /// header reads as a tar entry (a `.gz` of anything else is copied as it is, as docker does).
    public static func isUnpackableTar(_ path: String) -> Bool {
        isArchive(path) && TarProbe.isTar(path)
    }
}
