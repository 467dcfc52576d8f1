import Glibc
@testable import LayerArchive
import ContentDigest
import OCI
import Testing

@Suite struct LayerApplierTests {
    static let sample: [FixtureEntry] = [
        .dir("etc"),
        .file("etc/hostname", "berth\n"),
        .dir("usr/bin"),
        FixtureEntry(path: "usr/bin/su", mode: 0o4755, contents: Array("#!/bin/true\n".utf8), uid: 0, gid: 0),
        FixtureEntry(path: "home/user/notes", mode: 0o600, contents: Array("hello".utf8), uid: 1000, gid: 1001, mtime: 1_600_000_000,
                     xattrs: [("user.berth.test", Array("value".utf8))]),
        .symlink("bin", to: "usr/bin"),
        .hardlink("usr/bin/su-again", to: "usr/bin/su"),
        FixtureEntry(path: "dev/null", type: S_IFCHR, mode: 0o666, device: (1, 3)),
        FixtureEntry(path: "run/fifo", type: S_IFIFO, mode: 0o620),
    ]

    @Test(arguments: [LayerCompression.plain, .gzip, .zstd])
    func appliesEveryCompressionWithTheSameDiffID(compression: LayerCompression) throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let plain = sandbox.layer(Self.sample, name: "plain.tar")
        let compressed = sandbox.layer(Self.sample, name: "layer.tar.x", compression: compression)
        let result = try LayerApplier().apply(layerAt: compressed, to: sandbox.target)
        let plainBytes = try #require(readBytes(plain))
        #expect(result.diffID == Digest.sha256(of: plainBytes))
        #expect(result.uncompressedSize == Int64(plainBytes.count))
        #expect(readText(sandbox.target + "/etc/hostname") == "berth\n")
    }

    @Test func preservesOwnersModesTimesXattrsLinksAndDevices() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        _ = try LayerApplier().apply(layerAt: sandbox.layer(Self.sample), to: sandbox.target)
        let d = sandbox.target
        let su = try #require(status(d + "/usr/bin/su"))
        #expect(su.st_mode & 0o7777 == 0o4755)
        let notes = try #require(status(d + "/home/user/notes"))
        #expect(notes.st_uid == 1000 && notes.st_gid == 1001)
        #expect(notes.st_mode & 0o7777 == 0o600)
        #expect(notes.st_mtim.tv_sec == 1_600_000_000)
        #expect(xattr(d + "/home/user/notes", "user.berth.test") == "value")
        #expect(status(d + "/etc")?.st_mtim.tv_sec == 1_700_000_000, "directory times are set after their content")
        let link = try #require(status(d + "/bin"))
        #expect(link.st_mode & S_IFMT == S_IFLNK)
        let again = try #require(status(d + "/usr/bin/su-again"))
        #expect(again.st_ino == su.st_ino)
        let null = try #require(status(d + "/dev/null"))
        #expect(null.st_mode & S_IFMT == S_IFCHR && null.st_rdev == dev_t(1 << 8 | 3))
        #expect(status(d + "/run/fifo").map { $0.st_mode & S_IFMT } == S_IFIFO)
        #expect(status(d + "/run/fifo").map { $0.st_mode & 0o777 } == 0o620)
    }

    @Test func convertsWhiteoutsAndOpaqueDirectoriesAndIgnoresAUFSMetadata() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([
            .file(".wh.gone"),
            .dir("opaque"),
            .file("opaque/kept", "new"),
            .file("opaque/.wh..wh..opq"),
            .dir(".wh..wh.plnk"),
            .file(".wh..wh.plnk/1234.5678", "aufs"),
            .file(".wh..wh.aufs"),
        ])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        let gone = try #require(status(sandbox.target + "/gone"))
        #expect(gone.st_mode & S_IFMT == S_IFCHR && gone.st_rdev == 0)
        #expect(xattr(sandbox.target + "/opaque", "trusted.overlay.opaque") == "y")
        #expect(readText(sandbox.target + "/opaque/kept") == "new")
        #expect(!exists(sandbox.target + "/opaque/.wh..wh..opq"))
        #expect(!exists(sandbox.target + "/.wh..wh.plnk"))
        #expect(!exists(sandbox.target + "/.wh..wh.aufs"))
        #expect(!exists(sandbox.target + "/.wh.gone"))
    }

    @Test func laterEntriesReplaceEarlierOnesAndDirectoriesMerge() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([
            .file("a", "first"), .file("a", "second"),
            .dir("b"), .file("b", "file over dir"),
            .file("c", "x"), .dir("c", mode: 0o700),
            .dir("m", mode: 0o755), .file("m/inside", "kept"), .dir("m", mode: 0o711),
        ])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        #expect(readText(sandbox.target + "/a") == "second")
        #expect(readText(sandbox.target + "/b") == "file over dir")
        #expect(status(sandbox.target + "/c").map { $0.st_mode & S_IFMT } == S_IFDIR)
        #expect(readText(sandbox.target + "/m/inside") == "kept")
        #expect(status(sandbox.target + "/m").map { $0.st_mode & 0o777 } == 0o711)
    }

    @Test func nonASCIINamesKeepTheirExactBytes() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let layer = sandbox.layer([.dir("café"), .file("café/naïve-日本.txt", "utf8"), .symlink("lien", to: "café/naïve-日本.txt")])
        _ = try LayerApplier().apply(layerAt: layer, to: sandbox.target)
        #expect(readText(sandbox.target + "/café/naïve-日本.txt") == "utf8")
        var target = [CChar](repeating: 0, count: 256)
        let n = readlink(sandbox.target + "/lien", &target, 255)
        #expect(n > 0 && String(cString: target) == "café/naïve-日本.txt")
    }

    @Test func emptyLayerOfZeroBlocksHasDockersDiffID() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        // Docker's empty layer: two zero blocks, found in many older images.
        let path = sandbox.tar()
        let fd = open(path, O_WRONLY | O_CREAT, 0o644)
        _ = [UInt8](repeating: 0, count: 1024).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let result = try LayerApplier().apply(layerAt: path, to: sandbox.target)
        #expect(result.diffID.description == "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef")
        #expect(result.uncompressedSize == 1024)
        #expect(snapshot(sandbox.target).count == 1)
    }

    @Test func bytesAfterTheEndMarkerCountInTheDiffID() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let path = sandbox.layer([.file("a", "a")])
        var bytes = try #require(readBytes(path))
        bytes += [UInt8](repeating: 0, count: 4096)
        let fd = open(path, O_WRONLY | O_TRUNC)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let result = try LayerApplier().apply(layerAt: path, to: sandbox.target)
        #expect(result.diffID == Digest.sha256(of: bytes))
        #expect(result.uncompressedSize == Int64(bytes.count))
    }

    @Test func truncatedGzipFailsCleanly() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        var noise = [UInt8](repeating: 0, count: 512 * 1024)
        for i in noise.indices { noise[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
        let path = sandbox.layer([FixtureEntry(path: "big", contents: noise)], compression: .gzip)
        let full = try #require(readBytes(path))
        truncate(path, off_t(full.count / 2))
        let error = expectFailure(sandbox, path)
        guard case .corruptArchive? = error else {
            Issue.record("expected corruptArchive, got \(String(describing: error))")
            return
        }
        #expect(sandbox.canaryIntact)
    }

    @Test func notATarIsRefused() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        writeFile(sandbox.tar(), String(repeating: "not a tar ", count: 200))
        guard case .corruptArchive? = expectFailure(sandbox, sandbox.tar()) else {
            Issue.record("expected corruptArchive")
            return
        }
    }

    @Test func decompressionBombStopsAtTheSizeLimit() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let zeros = [UInt8](repeating: 0, count: 16 << 20)
        let path = sandbox.layer([FixtureEntry(path: "bomb", contents: zeros)], compression: .zstd)
        var limits = LayerLimits.default
        limits.maxUncompressedSize = 1 << 20
        #expect(expectFailure(sandbox, path, limits: limits) == .sizeLimitExceeded(limit: 1 << 20))
        #expect(sandbox.canaryIntact)
    }
}

func readBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { return bytes }
        bytes += buffer[0..<n]
    }
}
