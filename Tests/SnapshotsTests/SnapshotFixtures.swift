import Glibc
import LayerArchive
import OCI
@testable import Snapshots
import Testing

/// A unique scratch root holding a snapshotter, layer sources and mount points; `cleanup()`
/// unmounts what is mounted under it and removes everything.
final class SnapshotSandbox {
    let root = "/tmp/berth-snap-test-\(UInt64.random(in: 0...UInt64.max))"
    let snapshotter: OverlaySnapshotter
    private var counter = 0

    init() throws {
        mkdir(root, 0o755)
        snapshotter = try OverlaySnapshotter(root: root + "/snapshots")
    }

    /// Builds a directory with `build`, writes it as a gzip layer in overlay form (so 0/0
    /// character devices and opaque xattrs become OCI whiteouts) and returns its source.
    func layer(_ build: (String) -> Void) throws -> LayerSource {
        counter += 1
        let dir = "\(root)/src\(counter)"
        mkdir(dir, 0o755)
        build(dir)
        let path = "\(root)/layer\(counter).tgz"
        let written = try DiffWriter().writeLayer(fromUpper: dir, to: path)
        return LayerSource(diffID: written.diffID, path: path)
    }

    func mountPoint(_ name: String = "merged") -> String { "\(root)/\(name)" }

    func cleanup() {
        for name in ["merged", "merged2"] { umount2(mountPoint(name), Int32(MNT_DETACH)) }
        run("/bin/rm", "-rf", root)
    }
}

func run(_ arguments: String...) {
    var pid: pid_t = 0
    var argv = arguments.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    guard posix_spawn(&pid, arguments[0], nil, nil, &argv, environ) == 0 else { return }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
}

func put(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = text.withCString { write(fd, $0, strlen($0)) }
    close(fd)
}

func contents(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 65536)
    let n = read(fd, &buffer, buffer.count)
    return n >= 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
}

func names(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var result: [String] = []
    while let item = readdir(dir) {
        let name = withUnsafeBytes(of: item.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { result.append(name) }
    }
    return result.sorted()
}

func mode(_ path: String) -> mode_t? {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_mode : nil
}

/// Sets `trusted.overlay.opaque=y` on a directory (through setfattr's system call).
func markOpaque(_ path: String) {
    typealias SetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "lsetxattr") else { return }
    _ = unsafeBitCast(symbol, to: SetXattr.self)(path, "trusted.overlay.opaque", "y", 1, 0)
}
