import Glibc
@testable import LayerArchive
import Testing

/// A context tar whose end is missing after a whole last entry (as docker's CLI sends one) is
/// completed; one cut inside an entry is left to fail.
@Suite struct TarTrailerTests {
    /// A ustar of one 13-byte file `a` (header at 0, data at 512), cut to `length` bytes.
    private func tar(_ sandbox: Sandbox, cutTo length: Int?) -> String {
        mkdir(sandbox.root + "/src", 0o755)
        writeFile(sandbox.root + "/src/a", "FROM busybox\n")
        let path = sandbox.tar("context.tar")
        #expect(system("tar --format=ustar -cf \(path) -C \(sandbox.root)/src a") == 0)
        if let length { #expect(truncate(path, off_t(length)) == 0) }
        return path
    }

    @Test func aMissingPaddingAndEndAreAddedAndTheTarUnpacks() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let path = tar(sandbox, cutTo: 512 + 13)
        #expect(throws: LayerError.self) { try LayerApplier().extract(archiveAt: path, into: sandbox.target, options: ExtractionOptions()) }
        #expect(try TarTrailer.complete(path) == 499 + 1024)
        try LayerApplier().extract(archiveAt: path, into: sandbox.target, options: ExtractionOptions())
        #expect(readText(sandbox.target + "/a") == "FROM busybox\n")
    }

    @Test func aPaddedEntryWithoutTheEndGetsTheEnd() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let path = tar(sandbox, cutTo: 1024)
        #expect(try TarTrailer.complete(path) == 1024)
        try LayerApplier().extract(archiveAt: path, into: sandbox.target, options: ExtractionOptions())
        #expect(readText(sandbox.target + "/a") == "FROM busybox\n")
    }

    @Test func aWholeTarIsLeftAsItIs() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let path = tar(sandbox, cutTo: nil)
        let size = status(path)?.st_size
        #expect(try TarTrailer.complete(path) == 0)
        #expect(status(path)?.st_size == size)
    }

    @Test(arguments: [512 + 5, 300])
    func anEntryCutShortIsNotCompleted(length: Int) throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let path = tar(sandbox, cutTo: length)
        #expect(try TarTrailer.complete(path) == 0)
        #expect(status(path)?.st_size == off_t(length))
        #expect(throws: LayerError.self) { try LayerApplier().extract(archiveAt: path, into: sandbox.target, options: ExtractionOptions()) }
    }
}
