import BerthSystem
import CBerthSys
import Glibc

/// The files a container sees — its root file system with the binds and volumes mounted into
/// it — as the daemon reaches them from outside, for `docker cp`. A path is resolved one
/// component at a time in the container's view: each component is looked up in the tree that
/// holds it (the mount with the longest destination above it, else the root file system)
/// with `openat2(RESOLVE_IN_ROOT)`, and a symbolic link restarts the walk from its target, so
/// no link (absolute, relative or `..`) can lead to a host file.
struct ContainerFiles {
    let rootfs: String
    /// Binds and volumes; tmpfs mounts exist only inside the container and are not reached.
    let mounts: [MountPoint]
    let readOnlyRootfs: Bool

    /// Where a container path lies on the host.
    struct Location {
        /// The tree holding it (the root file system or a mount's source).
        var root: String
        /// Its components below `root`.
        var relative: [String]
        /// The path as the container names it, links resolved.
        var containerPath: String
        /// Whether writes there are refused (read-only mount or root file system), and why.
        var readOnlyReason: String?
    }

    init(rootfs: String, mounts: [MountPoint], readOnlyRootfs: Bool) {
        self.rootfs = rootfs
        self.mounts = mounts.filter { $0.kind != .tmpfs }
        self.readOnlyRootfs = readOnlyRootfs
    }

    /// The tree holding the container path `components`.
    func locate(_ components: [String]) -> Location {
        var best: (mount: MountPoint, depth: Int)?
        for mount in mounts {
            let destination = Paths.components(mount.destination)
            if destination.count <= components.count, Array(components.prefix(destination.count)) == destination,
               destination.count > (best?.depth ?? -1) {
                best = (mount, destination.count)
            }
        }
        let path = "/" + components.joined(separator: "/")
        guard let (mount, depth) = best else {
            return Location(root: rootfs, relative: components, containerPath: path,
                            readOnlyReason: readOnlyRootfs ? "container rootfs is marked read-only" : nil)
        }
        return Location(root: mount.source, relative: Array(components.dropFirst(depth)), containerPath: path,
                        readOnlyReason: mount.readOnly ? "mounted volume is marked read-only" : nil)
    }

    /// Resolves the absolute container path `path`, following every link on the way and, with
    /// `followFinal`, a link in its last component too. A missing last component is no error
    /// (the location is where it would be); a missing directory on the way is `notFound`.
    func resolve(_ path: String, followFinal: Bool) throws -> Location {
        var resolved: [String] = []
        var pending = path.split(separator: "/").map(String.init)
        var links = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = resolved + [component]
            if pending.isEmpty && !followFinal {
                resolved = candidate
                break
            }
            let location = locate(candidate)
            guard let (parent, name) = try open(parentOf: location) else {
                resolved = candidate
                continue
            }
            defer { close(parent) }
            var st = stat()
            guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                // Missing: the path may still be named (a later lookup below it fails).
                guard errno == ENOENT else { throw ContainerFilesError.system("stat \(path)", errno) }
                resolved = candidate
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFLNK {
                links += 1
                guard links <= 40 else { throw ContainerFilesError.tooManyLinks(path) }
                let target = Self.readLink(parent, name)
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
            } else {
                resolved = candidate
            }
        }
        return locate(resolved)
    }

    /// An `O_PATH` descriptor of the directory holding `location` and its name there; nil for
    /// the root of its tree (the root file system or a mount).
    func open(parentOf location: Location) throws -> (Int32, String)? {
        guard let name = location.relative.last else { return nil }
        let root = Glibc.open(location.root, berth_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw ContainerFilesError.system("open \(location.root)", errno) }
        defer { close(root) }
        let parentPath = location.relative.dropLast().joined(separator: "/")
        let fd = berth_openat2(root, parentPath.isEmpty ? "." : parentPath, UInt64(UInt32(bitPattern: berth_O_PATH | O_DIRECTORY | O_CLOEXEC)), 0,
                               UInt64(BERTH_RESOLVE_IN_ROOT | BERTH_RESOLVE_NO_MAGICLINKS))
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw ContainerFilesError.notFound(location.containerPath) }
            throw ContainerFilesError.system("open \(location.containerPath)", errno)
        }
        return (fd, name)
    }

    /// The directory holding `location` and its name there, also for the root of a tree (its
    /// host parent directory and base name).
    func entry(_ location: Location) throws -> (parent: Int32, name: String) {
        if let opened = try open(parentOf: location) { return opened }
        let parent = Glibc.open(FileSystem.parent(of: location.root), berth_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { throw ContainerFilesError.system("open \(location.root)", errno) }
        return (parent, String(location.root.split(separator: "/").last ?? ""))
    }

    private static func readLink(_ directory: Int32, _ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlinkat(directory, name, &buffer, 4096)
        guard count > 0 else { return "" }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Why a path in a container could not be used.
enum ContainerFilesError: Error, CustomStringConvertible {
    case notFound(String)
    case tooManyLinks(String)
    case system(String, Int32)

    var description: String {
        switch self {
        case .notFound(let path): return "Could not find the file \(path) in container"
        case .tooManyLinks(let path): return "too many levels of symbolic links resolving \(path)"
        case .system(let what, let code): return "\(what): \(String(cString: strerror(code)))"
        }
    }
}
