import Glibc
import LayerArchive
import ContentDigest
import OCI
@testable import Snapshots
import Testing

/// A build step's container becomes a layer by moving its upper directory: the layer must be
/// the same tree an unpack of the step's tar makes, and usable as a parent at once.
@Suite struct CommitTests {
    @Test func aCommittedUpperIsTheTreeItsTarUnpacksTo() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        let base = try sandbox.layer { d in
            for sub in ["etc", "bin", "var", "var/cache"] { mkdir("\(d)/\(sub)", 0o755) }
            put("\(d)/etc/hostname", "one")
            put("\(d)/bin/sh", "shell")
            put("\(d)/var/cache/a", "a")
        }
        let s = sandbox.snapshotter
        let baseChain = try #require(try s.unpack([base]).last)
        try s.prepare(container: "step", parent: baseChain)
        let merged = sandbox.mountPoint()
        try s.mount(container: "step", at: merged)
        put(merged + "/etc/hostname", "two")
        unlink(merged + "/bin/sh")
        run("/bin/rm", "-rf", merged + "/var/cache")
        mkdir(merged + "/var/cache", 0o700)
        put(merged + "/var/cache/fresh", "fresh")
        symlink("../etc/hostname", merged + "/bin/name")
        setAttribute(merged + "/var/cache/fresh", "user.kept", "yes")
        let socketPath = merged + "/run.sock"
        let listener = bindSocket(socketPath)
        defer { close(listener) }
        #expect(mode(socketPath).map { $0 & S_IFMT } == S_IFSOCK)
        try s.unmount(merged)

        let upper = s.upperDirectory(container: "step")
        // What overlayfs may leave on a copied-up file; a layer never carries it.
        setAttribute(upper + "/etc/hostname", "trusted.overlay.origin", "handle")
        let tar = sandbox.root + "/step.tar.gz"
        let written = try DiffWriter().writeLayer(fromUpper: upper, to: tar)
        let chain = try s.commit(container: "step", diffID: written.diffID)
        #expect(chain == chainIDs(of: [base.diffID, written.diffID]).last)
        #expect(s.hasLayer(chainID: chain))
        #expect(mode(upper) == nil)

        let other = try SnapshotSandbox()
        defer { other.cleanup() }
        let unpacked = try other.snapshotter.unpack([base, LayerSource(diffID: written.diffID, path: tar)])
        #expect(unpacked.last == chain)
        let committedTree = describeTree(s.layerDirectory(chain))
        #expect(committedTree == describeTree(other.snapshotter.layerDirectory(chain)))
        #expect(!committedTree.contains { $0.contains("run.sock") || $0.contains("overlay.origin") })
        #expect(committedTree.contains { $0.contains("user.kept=yes") })
        #expect(committedTree.contains { $0.contains("trusted.overlay.opaque=y") })

        // The next step stands on it straight away.
        try s.remove(container: "step")
        try s.prepare(container: "next", parent: chain)
        try s.mount(container: "next", at: merged)
        defer { try? s.unmount(merged) }
        #expect(contents(merged + "/etc/hostname") == "two")
        #expect(mode(merged + "/bin/sh") == nil)
        #expect(names(merged + "/var/cache") == ["fresh"])
        #expect(mode(merged + "/run.sock") == nil)
    }

    @Test func committingAChainThatExistsKeepsTheExistingLayer() throws {
        let sandbox = try SnapshotSandbox()
        defer { sandbox.cleanup() }
        let s = sandbox.snapshotter
        var chains: [Digest] = []
        for id in ["first", "second"] {
            try s.prepare(container: id, parent: nil)
            let upper = s.upperDirectory(container: id)
            put(upper + "/file", "same")
            // Equal trees, times included, make equal tars.
            run("/usr/bin/touch", "-d", "@1000000000", upper + "/file", upper)
            let written = try DiffWriter().writeLayer(fromUpper: upper, to: "\(sandbox.root)/\(id).tgz")
            chains.append(try s.commit(container: id, diffID: written.diffID))
        }
        #expect(chains[0] == chains[1])
        #expect(contents(s.layerDirectory(chains[0]) + "/file") == "same")
        // The second upper was not moved: the container still owns it and removes it.
        #expect(mode(s.upperDirectory(container: "second")) != nil)
        try s.remove(container: "second")
        #expect(throws: SnapshotError.self) { try s.commit(container: "missing", diffID: chains[0]) }
        #expect(throws: SnapshotError.self) { try s.commit(container: "../escape", diffID: chains[0]) }
    }
}

/// One line per entry under `root` (sorted): path, type and permission bits, owner, content or
/// link target, and every extended attribute with its value.
func describeTree(_ root: String) -> [String] {
    var lines: [String] = []
    func walk(_ relative: String) {
        for name in names(root + relative) {
            let path = relative + "/" + name
            var st = stat()
            guard lstat(root + path, &st) == 0 else { continue }
            var line = "\(path) \(String(st.st_mode, radix: 8)) \(st.st_uid):\(st.st_gid)"
            switch st.st_mode & S_IFMT {
            case S_IFREG: line += " " + (contents(root + path) ?? "?")
            case S_IFLNK:
                var target = [CChar](repeating: 0, count: 4096)
                let n = readlink(root + path, &target, target.count)
                line += " -> " + String(decoding: target[..<max(0, n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            case S_IFCHR: line += " dev \(st.st_rdev)"
            default: break
            }
            line += attributes(root + path).map { " \($0)" }.joined()
            lines.append(line)
            if st.st_mode & S_IFMT == S_IFDIR { walk(path) }
        }
    }
    walk("")
    return lines
}

private typealias ListXattr = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int
private typealias GetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
private typealias SetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32

private func symbol<T>(_ name: String, as type: T.Type) -> T {
    unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)!, to: type)
}

/// `name=value` for each extended attribute of `path` (not following a link), sorted.
func attributes(_ path: String) -> [String] {
    let list = symbol("llistxattr", as: ListXattr.self), get = symbol("lgetxattr", as: GetXattr.self)
    var buffer = [CChar](repeating: 0, count: 65536)
    let size = list(path, &buffer, buffer.count)
    guard size > 0 else { return [] }
    return buffer[..<size].split(separator: 0).map { raw in
        let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var value = [UInt8](repeating: 0, count: 4096)
        let n = get(path, name, &value, value.count)
        return name + "=" + String(decoding: value[..<max(0, n)], as: UTF8.self)
    }.sorted()
}

func setAttribute(_ path: String, _ name: String, _ value: String) {
    _ = symbol("lsetxattr", as: SetXattr.self)(path, name, value, value.utf8.count, 0)
}

/// A Unix socket bound at `path`; the caller closes it.
func bindSocket(_ path: String) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
    }
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    return fd
}
