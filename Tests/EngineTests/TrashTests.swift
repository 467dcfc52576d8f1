import BerthSystem
import Glibc
import Testing
@testable import Engine

@Suite struct TrashTests {
    private func scratch() throws -> String {
        var template = Array("/tmp/berth-trash-XXXXXX".utf8CString)
        let made = try #require(mkdtemp(&template))
        return String(cString: made)
    }

    @Test func discardedDirectoryIsGoneAtOnceAndDeletedInTheBackground() async throws {
        let root = try scratch()
        defer { try? FileSystem.removeTree(root) }
        let victim = root + "/containers/abc"
        try FileSystem.makeDirectories(victim + "/upper/deep", mode: 0o755)
        try FileSystem.writeAtomically(victim + "/upper/deep/file", bytes: Array("x".utf8), durable: false)
        try FileSystem.makeDirectories(root + "/trash", mode: 0o700)

        try Trash.discard(victim, into: root + "/trash")
        #expect(!FileSystem.exists(victim))
        #expect(FileSystem.exists(root + "/containers"))
        var left = FileSystem.listDirectory(root + "/trash")
        for _ in 0..<200 where !left.isEmpty {
            try await Task.sleep(nanoseconds: 10_000_000)
            left = FileSystem.listDirectory(root + "/trash")
        }
        #expect(left.isEmpty, "the background removal left \(left)")
    }

    @Test func discardingWhatIsNotThereIsNoError() throws {
        let root = try scratch()
        defer { try? FileSystem.removeTree(root) }
        #expect(throws: Never.self) { try Trash.discard(root + "/missing", into: root) }
    }

    @Test func sweepEmptiesTheTrashDirectory() throws {
        let root = try scratch()
        defer { try? FileSystem.removeTree(root) }
        try FileSystem.makeDirectories(root + "/trash/123/a", mode: 0o755)
        try FileSystem.writeAtomically(root + "/trash/456", bytes: [1], durable: false)
        Trash.sweep(root + "/trash")
        #expect(FileSystem.listDirectory(root + "/trash").isEmpty)
        #expect(FileSystem.exists(root + "/trash"))
    }
}
