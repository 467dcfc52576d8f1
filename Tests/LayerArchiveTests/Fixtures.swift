import CArchive
import Glibc
@testable import LayerArchive
import Testing

/// One entry of a fixture tar, written as given (hostile names included).
struct FixtureEntry {
    var path: String
    var type: mode_t = S_IFREG
    var mode: mode_t = 0o644
    var contents: [UInt8] = []
    var uid: Int64 = 0
    var gid: Int64 = 0
    var mtime: Int = 1_700_000_000
    var link: String? = nil
    var hardlink: String? = nil
    var device: (UInt32, UInt32) = (0, 0)
    var xattrs: [(String, [UInt8])] = []

    static func file(_ path: String, _ text: String = "", mode: mode_t = 0o644) -> FixtureEntry {
        FixtureEntry(path: path, mode: mode, contents: Array(text.utf8))
    }
    static func dir(_ path: String, mode: mode_t = 0o755) -> FixtureEntry {
        FixtureEntry(path: path, type: S_IFDIR, mode: mode)
    }
    static func symlink(_ path: String, to target: String) -> FixtureEntry {
        FixtureEntry(path: path, type: S_IFLNK, mode: 0o777, link: target)
    }
    static func hardlink(_ path: String, to target: String) -> FixtureEntry {
        FixtureEntry(path: path, hardlink: target)
    }
}

/// Writes fixture tars with libarchive's writer.
enum Fixture {
    static func write(_ entries: [FixtureEntry], to path: String, compression: LayerCompression = .plain) {
        let archive = archive_write_new()!
        defer { archive_write_free(archive) }
        archive_write_set_format_pax_restricted(archive)
        switch compression {
        case .plain: break
        case .gzip: archive_write_add_filter_gzip(archive)
        case .zstd: archive_write_add_filter_zstd(archive)
        }
        #expect(archive_write_open_filename(archive, path) == ARCHIVE_OK)
        for item in entries {
            let entry = archive_entry_new()!
            defer { archive_entry_free(entry) }
            archive_entry_copy_pathname(entry, item.path)
            archive_entry_set_mode(entry, item.type | item.mode)
            archive_entry_set_uid(entry, item.uid)
            archive_entry_set_gid(entry, item.gid)
            archive_entry_set_mtime(entry, item.mtime, 0)
            if let link = item.link { archive_entry_copy_symlink(entry, link) }
            if let hardlink = item.hardlink { archive_entry_copy_hardlink(entry, hardlink) }
            if item.type == S_IFCHR || item.type == S_IFBLK {
                archive_entry_set_rdevmajor(entry, dev_t(item.device.0))
                archive_entry_set_rdevminor(entry, dev_t(item.device.1))
            }
            for (name, value) in item.xattrs {
                value.withUnsafeBytes { archive_entry_xattr_add_entry(entry, name, $0.baseAddress, $0.count) }
            }
            let size = item.type == S_IFREG && item.hardlink == nil ? item.contents.count : 0
            archive_entry_set_size(entry, Int64(size))
            // ARCHIVE_WARN: a non-ASCII name stored as raw bytes in the C locale.
            let written = archive_write_header(archive, entry)
            #expect(written == ARCHIVE_OK || written == ARCHIVE_WARN, "header for \(item.path)")
            if size > 0 {
                item.contents.withUnsafeBytes { _ = archive_write_data(archive, $0.baseAddress, $0.count) }
            }
        }
        #expect(archive_write_close(archive) == ARCHIVE_OK)
    }

    /// Entry names of a tar file, in order.
    static func names(of path: String) -> [String] {
        let archive = archive_read_new()!
        defer { archive_read_free(archive) }
        archive_read_support_filter_all(archive)
        archive_read_support_format_tar(archive)
        guard archive_read_open_filename(archive, path, 65536) == ARCHIVE_OK else { return [] }
        var result: [String] = []
        var entry: OpaquePointer?
        while archive_read_next_header(archive, &entry) == ARCHIVE_OK, let entry {
            result.append(String(cString: archive_entry_pathname(entry)))
        }
        return result
    }
}

/// A unique scratch directory: `D` (the unpack target), `C` (a canary with `C/victim`) and room
/// for tar files. Removed by `cleanup()`.
final class Sandbox {
    let root: String
    var target: String { root + "/D" }
    var canary: String { root + "/C" }
    var victim: String { canary + "/victim" }
    private var canaryBefore: [String] = []

    init() {
        root = "/tmp/berth-layer-test-\(UInt64.random(in: 0...UInt64.max))"
        mkdir(root, 0o755)
        mkdir(root + "/D", 0o755)
        mkdir(root + "/C", 0o755)
        writeFile(victim, "victim")
        chmod(victim, 0o644)
        canaryBefore = snapshot(canary)
    }

    func tar(_ name: String = "layer.tar") -> String { root + "/" + name }

    /// Writes `entries` as a tar in the sandbox and returns its path.
    func layer(_ entries: [FixtureEntry], name: String = "layer.tar", compression: LayerCompression = .plain) -> String {
        let path = tar(name)
        Fixture.write(entries, to: path, compression: compression)
        return path
    }

    /// Whether the canary dir is exactly as it was: same names, modes, owners, sizes, contents.
    var canaryIntact: Bool { snapshot(canary) == canaryBefore }

    func cleanup() {
        system("umount -l \(root)/* 2>/dev/null; rm -rf \(root)")
    }
}

@discardableResult
func system(_ command: String) -> Int32 {
    var pid: pid_t = 0
    let args = ["/bin/sh", "-c", command]
    var argv = args.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    guard posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return status
}

func writeFile(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = text.withCString { write(fd, $0, strlen($0)) }
    close(fd)
}

func readText(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_NOFOLLOW)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

func status(_ path: String) -> stat? {
    var st = stat()
    return lstat(path, &st) == 0 ? st : nil
}

func exists(_ path: String) -> Bool { status(path) != nil }

/// A recursive listing with mode, owner, size, mtime and contents, for before/after checks.
func snapshot(_ path: String) -> [String] {
    var lines: [String] = []
    guard let st = status(path) else { return ["missing \(path)"] }
    lines.append("\(path) \(st.st_mode) \(st.st_uid):\(st.st_gid) \(st.st_size) \(st.st_mtim.tv_sec) \(st.st_nlink)")
    if (st.st_mode & S_IFMT) == S_IFDIR, let dir = opendir(path) {
        var names: [String] = []
        while let item = readdir(dir) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        for name in names.sorted() { lines += snapshot(path + "/" + name) }
    } else if (st.st_mode & S_IFMT) == S_IFREG {
        lines.append(readText(path) ?? "unreadable")
    }
    return lines
}

/// The value of extended attribute `name` on `path` (not following links).
func xattr(_ path: String, _ name: String) -> String? {
    var buffer = [UInt8](repeating: 0, count: 65536)
    let n = buffer.withUnsafeMutableBytes { lgetxattr(path, name, $0.baseAddress, $0.count) }
    return n >= 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
}

/// Applies and expects a `LayerError`; returns it.
func expectFailure(_ sandbox: Sandbox, _ layer: String, limits: LayerLimits = .default) -> LayerError? {
    do {
        _ = try LayerApplier(limits: limits).apply(layerAt: layer, to: sandbox.target)
        Issue.record("applying \(layer) should have failed")
        return nil
    } catch let error as LayerError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}
