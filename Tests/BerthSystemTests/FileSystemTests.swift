import Glibc
import Testing
@testable import BerthSystem

@Suite struct FileSystemTests {
    @Test func atomicWriteReplacesContentAndLeavesNoTemporaryFiles() throws {
        let dir = "/tmp/berthfs-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.makeDirectories(dir + "/a/b")
        defer { try? FileSystem.removeTree(dir) }
        try FileSystem.writeAtomically(dir + "/a/b/f", bytes: Array("one".utf8))
        try FileSystem.writeAtomically(dir + "/a/b/f", bytes: Array("two".utf8))
        #expect(try FileSystem.readFile(dir + "/a/b/f") == Array("two".utf8))
        #expect(FileSystem.listDirectory(dir + "/a/b") == ["f"])
    }

    @Test func removeTreeDoesNotFollowSymlinks() throws {
        let dir = "/tmp/berthfs-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let outside = dir + "-outside"
        try FileSystem.makeDirectories(dir)
        try FileSystem.makeDirectories(outside)
        defer { try? FileSystem.removeTree(outside) }
        try FileSystem.writeAtomically(outside + "/victim", bytes: [1])
        #expect(symlink(outside, dir + "/link") == 0)
        try FileSystem.removeTree(dir)
        #expect(!FileSystem.exists(dir))
        #expect(FileSystem.exists(outside + "/victim"))
    }
}
