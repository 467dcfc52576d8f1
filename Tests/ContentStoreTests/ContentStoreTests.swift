import BerthSystem
import Foundation
import Glibc
import ContentDigest
import OCI
import Testing
@testable import ContentStore

@Suite struct ContentStoreTests {
    let root: String
    let store: ContentStore

    init() throws {
        root = "/tmp/berth-content-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        store = try ContentStore(root: root)
    }

    private func cleanup() { try? FileSystem.removeTree(root) }

    @Test func writtenBlobIsReadableByDigestAndReadOnly() throws {
        defer { cleanup() }
        let data = Data("hello blob".utf8)
        let stored = try store.write(data)
        #expect(stored.digest == Digest.sha256(of: Array(data)))
        #expect(stored.size == Int64(data.count))
        #expect(try store.read(stored.digest) == data)
        var st = stat()
        #expect(stat(store.path(of: stored.digest), &st) == 0)
        #expect(st.st_mode & 0o222 == 0)
    }

    @Test func digestMismatchLeavesNothingVisible() throws {
        defer { cleanup() }
        let wrong = Digest.sha256(of: Array("something else".utf8))
        #expect(throws: ContentError.self) { try store.write(Data("actual".utf8), expected: wrong) }
        #expect(store.list().isEmpty)
        #expect(FileSystem.listDirectory(root + "/ingest").isEmpty)
    }

    @Test func sizeMismatchIsReportedBeforeDigest() throws {
        defer { cleanup() }
        let source = root + "/source"
        try FileSystem.writeAtomically(source, bytes: Array("12345".utf8))
        #expect(throws: ContentError.sizeMismatch(expected: 4, actual: 5)) {
            try store.importFile(source, expected: Digest.sha256(of: Array("1234".utf8)), expectedSize: 4)
        }
        #expect(store.list().isEmpty)
    }

    @Test func interruptedIngestResumesWithTheSameRef() throws {
        defer { cleanup() }
        let content = Array(repeating: UInt8(7), count: 300_000)
        let first = try store.ingest(ref: "download-1")
        try content[0..<100_000].withUnsafeBytes { try first.write($0) }
        // The writer is dropped without a commit, as when a pull is killed.
        let resumed = try store.ingest(ref: "download-1")
        #expect(resumed.offset == 100_000)
        try content[100_000...].withUnsafeBytes { try resumed.write($0) }
        let stored = try resumed.commit(expectedDigest: Digest.sha256(of: content), expectedSize: 300_000)
        #expect(stored.size == 300_000)
        #expect(FileSystem.listDirectory(root + "/ingest").isEmpty)
    }

    @Test func storingExistingContentIsANoOp() throws {
        defer { cleanup() }
        let a = try store.write(Data("same".utf8))
        let b = try store.write(Data("same".utf8))
        #expect(a.digest == b.digest)
        #expect(store.list() == [a.digest])
    }

    @Test func corruptedBlobIsDetectedOnRead() throws {
        defer { cleanup() }
        let stored = try store.write(Data("original".utf8))
        let path = store.path(of: stored.digest)
        chmod(path, 0o644)
        try FileSystem.writeAtomically(path, bytes: Array("tampered".utf8))
        #expect(throws: ContentError.corrupted(stored.digest)) { try store.read(stored.digest) }
    }

    @Test func missingBlobIsNotFound() throws {
        defer { cleanup() }
        let digest = Digest.sha256(of: [1, 2, 3])
        #expect(throws: ContentError.notFound(digest)) { try store.read(digest) }
    }
}
