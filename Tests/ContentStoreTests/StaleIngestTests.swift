import BerthSystem
import Glibc
import Testing
@testable import ContentStore

@Suite struct StaleIngestTests {
    @Test func staleIngestsGoExceptThoseKeptAndThoseBeingWritten() throws {
        let root = "/tmp/berth-stale-ingest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileSystem.removeTree(root) }
        let store = try ContentStore(root: root)
        for ref in ["kept", "abandoned", "active"] {
            let writer = try store.ingest(ref: ref)
            try Array(ref.utf8).withUnsafeBytes { try writer.write($0) }
            // Both the directory and the data look an hour old.
            var old = [timeval(tv_sec: time(nil) - 3600, tv_usec: 0), timeval(tv_sec: time(nil) - 3600, tv_usec: 0)]
            let directory = root + "/ingest/" + IngestWriter.directoryName(ref: ref)
            utimes(directory + "/data", &old)
            utimes(directory, &old)
        }
        // A write to the active one makes it young again, though its directory is old.
        let active = try store.ingest(ref: "active")
        try Array("more".utf8).withUnsafeBytes { try active.write($0) }

        store.removeStaleIngests(olderThan: 600, keeping: [IngestWriter.directoryName(ref: "kept")])
        let left = Set(FileSystem.listDirectory(root + "/ingest"))
        #expect(left == [IngestWriter.directoryName(ref: "kept"), IngestWriter.directoryName(ref: "active")])
    }
}
