import Glibc
@testable import LayerArchive
import Testing

@Suite struct ExtractionTests {
    @Test func whiteoutNamesAreOrdinaryFilesAndOwnersAreMapped() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        writeFile(sandbox.target + "/kept", "kept")
        let tar = sandbox.layer([FixtureEntry(path: ".wh.kept", contents: Array("x".utf8), uid: 7, gid: 8), .file("a/b", "b")])
        try LayerApplier().extract(archiveAt: tar, into: sandbox.target,
                                   options: ExtractionOptions(owner: { uid, gid in (uid + 1000, gid + 2000) }))
        #expect(readText(sandbox.target + "/kept") == "kept")
        let st = try #require(status(sandbox.target + "/.wh.kept"))
        #expect(st.st_uid == 1007 && st.st_gid == 2008)
        #expect(readText(sandbox.target + "/a/b") == "b")
    }

    @Test func noOverwriteDirNonDirRefusesBothWays() throws {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        mkdir(sandbox.target + "/dir", 0o755)
        writeFile(sandbox.target + "/file", "file")
        let options = ExtractionOptions(noOverwriteDirNonDir: true)
        #expect(throws: LayerError.wouldReplace(entry: "dir", directoryWithNonDirectory: true)) {
            try LayerApplier().extract(archiveAt: sandbox.layer([.file("dir", "x")], name: "a.tar"), into: sandbox.target, options: options)
        }
        #expect(throws: LayerError.wouldReplace(entry: "file/", directoryWithNonDirectory: false)) {
            try LayerApplier().extract(archiveAt: sandbox.layer([.dir("file")], name: "b.tar"), into: sandbox.target, options: options)
        }
        // Without the option the file replaces the directory, as in a layer.
        try LayerApplier().extract(archiveAt: sandbox.layer([.file("dir", "x")], name: "c.tar"), into: sandbox.target, options: ExtractionOptions())
        #expect(readText(sandbox.target + "/dir") == "x")
    }

    @Test func escapingEntriesStayRefused() {
        let sandbox = Sandbox()
        defer { sandbox.cleanup() }
        let tar = sandbox.layer([.file("../C/victim", "owned")])
        #expect(throws: LayerError.self) { try LayerApplier().extract(archiveAt: tar, into: sandbox.target, options: ExtractionOptions()) }
        #expect(sandbox.canaryIntact)
    }
}
