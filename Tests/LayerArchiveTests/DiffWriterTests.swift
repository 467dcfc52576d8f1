import Foundation
import Glibc
@testable import LayerArchive
import ContentDigest
import OCI
import Testing

@Suite struct DiffWriterTests {
    @Test(arguments: [LayerCompression.plain, .gzip, .zstd])
    func roundTripPreservesTheTree(compression: LayerCompression) throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        _ = try LayerApplier().apply(layerAt: sandbox.layer(LayerApplierTests.sample), to: sandbox.target)
        let output = sandbox.tar("export.tar")
        let written = try DiffWriter().writeArchive(of: sandbox.target, to: output, compression: compression)
        let copy = sandbox.root + "/copy"
        mkdir(copy, 0o755)
        let applied = try LayerApplier().apply(layerAt: output, to: copy)
        #expect(applied.diffID == written.diffID)
        #expect(written.digest == Digest.sha256(of: try #require(readBytes(output))))
        #expect(written.size == Int64(try #require(readBytes(output)).count))
        let strip = { (lines: [String], root: String) in lines.map { $0.replacingOccurrences(of: root, with: "") } }
        #expect(strip(snapshot(copy), copy) == strip(snapshot(sandbox.target), sandbox.target))
        #expect(xattr(copy + "/home/user/notes", "user.berth.test") == "value")
        #expect(status(copy + "/usr/bin/su-again")?.st_ino == status(copy + "/usr/bin/su")?.st_ino)
    }

    @Test func sameTreeGivesSameDigests() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        _ = try LayerApplier().apply(layerAt: sandbox.layer(LayerApplierTests.sample), to: sandbox.target)
        let first = try DiffWriter().writeLayer(fromUpper: sandbox.target, to: sandbox.tar("one.tgz"))
        let second = try DiffWriter().writeLayer(fromUpper: sandbox.target, to: sandbox.tar("two.tgz"))
        #expect(first == second)
        // No timestamp in the gzip header (RFC 1952 MTIME, bytes 4-7): digests do not depend on when.
        #expect(try #require(readBytes(sandbox.tar("one.tgz")))[4..<8].allSatisfy { $0 == 0 })
    }

    @Test func gzipLayersAreStandardGzipOfTheirDiff() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        mkdir(sandbox.target + "/data", 0o755)
        // Incompressible and compressible content, each larger than the compressor's 1 MiB buffer.
        #expect(system("head -c 3145728 /dev/urandom > \(sandbox.target)/data/random") == 0)
        #expect(system("yes berth | head -c 4194304 > \(sandbox.target)/data/text") == 0)
        let layer = sandbox.tar("layer.tgz")
        let written = try DiffWriter().writeLayer(fromUpper: sandbox.target, to: layer)
        #expect(system("gzip -t \(layer)") == 0)
        #expect(system("gzip -dc \(layer) > \(layer).tar") == 0)
        #expect(written.diffID == Digest.sha256(of: try #require(readBytes(layer + ".tar"))))
        #expect(written.size < Int64(try #require(readBytes(layer + ".tar")).count))
    }

    @Test func upperWhiteoutsAndOpaqueDirectoriesBecomeOCIEntries() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let upper = sandbox.target
        mkdir(upper + "/etc", 0o755)
        writeFile(upper + "/etc/new", "new")
        #expect(mknod(upper + "/etc/removed", S_IFCHR, 0) == 0)
        mkdir(upper + "/var", 0o755)
        #expect(lsetxattr(upper + "/var", "trusted.overlay.opaque", "y", 1, 0) == 0)
        #expect(lsetxattr(upper + "/var", "trusted.overlay.origin", "x", 1, 0) == 0)
        writeFile(upper + "/var/fresh", "fresh")
        let output = sandbox.tar("layer.tgz")
        let written = try DiffWriter().writeLayer(fromUpper: upper, to: output)
        #expect(Fixture.names(of: output) == ["etc/", "etc/new", "etc/.wh.removed", "var/", "var/.wh..wh..opq", "var/fresh"])

        // Applying the layer gives back the overlay form, without the overlay's own metadata.
        let copy = sandbox.root + "/copy"
        mkdir(copy, 0o755)
        let applied = try LayerApplier().apply(layerAt: output, to: copy)
        #expect(applied.diffID == written.diffID)
        #expect(status(copy + "/etc/removed").map { $0.st_mode & S_IFMT } == S_IFCHR)
        #expect(xattr(copy + "/var", "trusted.overlay.opaque") == "y")
        #expect(xattr(copy + "/var", "trusted.overlay.origin") == nil)
        #expect(readText(copy + "/var/fresh") == "fresh")
    }

    @Test func nonASCIINamesRoundTripByteForByte() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let accented = sandbox.target + "/caf" + String(decoding: [0xc3, 0xa9], as: UTF8.self)
        writeFile(accented, "utf8")
        let raw: [UInt8] = Array((sandbox.target + "/raw-").utf8) + [0xe9, 0]
        let fd = raw.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) } }
        close(fd)
        symlink("café", sandbox.target + "/link-日本")
        let output = sandbox.tar("names.tar")
        _ = try DiffWriter().writeArchive(of: sandbox.target, to: output)
        let copy = sandbox.root + "/copy"
        mkdir(copy, 0o755)
        _ = try LayerApplier().apply(layerAt: output, to: copy)
        #expect(readText(copy + "/café") == "utf8")
        #expect(status(copy + "/link-日本").map { $0.st_mode & S_IFMT } == S_IFLNK)
        let rawCopy: [UInt8] = Array((copy + "/raw-").utf8) + [0xe9, 0]
        #expect(rawCopy.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { access($0.baseAddress!, F_OK) } } == 0)
    }

    @Test func failedWriteLeavesNoOutput() {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let output = sandbox.tar("never.tar")
        #expect(throws: LayerError.self) {
            try DiffWriter().writeArchive(of: sandbox.root + "/missing", to: output)
        }
        #expect(!exists(output))
    }
}
