#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import ContentDigest
import OCI
import BerthSystem

/// Writes one blob into `ingest/`, hashing as it goes, and makes it visible only on a verified
/// `commit`. With a `ref`, a writer that was interrupted (process killed, `close` without commit)
/// can be reopened and continues at `offset`; the data already there is re-hashed on reopen.
///
/// Not thread-safe: one writer is used by one task at a time.
public final class IngestWriter {
    private let store: ContentStore
    private let directory: String
    private let fd: Int32
    private var hasher = DigestHasher()
    private var finished = false

    /// Bytes written so far (including resumed data).
    public var offset: Int64 { hasher.count }

    init(store: ContentStore, ref: String?) throws {
        self.store = store
        let name = ref.map(IngestWriter.directoryName(ref:)) ?? "tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        directory = store.root + "/ingest/" + name
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw ContentError.io(operation: "create ingest \(directory)", errno: errno)
        }
        fd = open(directory + "/data", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ContentError.io(operation: "open ingest data", errno: errno) }
        if ref != nil { try rehashExisting() }
    }

    deinit { close(fd) }

    /// The name of the directory under `ingest/` that holds the partial data of `ref`. The ref
    /// is hashed so callers may use any string (a URL, a digest) as a key.
    public static func directoryName(ref: String) -> String {
        "ref-" + Digest.sha256(of: Array(ref.utf8)).encoded
    }

    private func rehashExisting() throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw ContentError.io(operation: "read ingest data", errno: errno) }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ContentError.io(operation: "write blob", errno: errno)
            }
            done += n
        }
        hasher.update(bytes)
    }

    /// Appends everything readable from `source` (at most `limit` bytes plus one, so an
    /// oversized source is detected without reading all of it).
    public func copy(from source: Int32, limit: Int64? = nil) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            if let limit, offset > limit { return }
            let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ContentError.io(operation: "read source", errno: errno)
            }
            if n == 0 { return }
            try buffer.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// Verifies size then digest, fsyncs and renames the data into `blobs/`. On a mismatch the
    /// partial data is removed and nothing becomes visible. If the blob already exists the
    /// ingest is dropped and the existing blob kept.
    @discardableResult
    public func commit(expectedDigest: Digest?, expectedSize: Int64?) throws -> (digest: Digest, size: Int64) {
        defer { finished = true; try? FileSystem.removeTree(directory) }
        let size = offset
        if let expectedSize, expectedSize != size {
            throw ContentError.sizeMismatch(expected: expectedSize, actual: size)
        }
        let digest = hasher.finalize()
        if let expectedDigest, expectedDigest != digest {
            throw ContentError.digestMismatch(expected: expectedDigest, actual: digest)
        }
        if store.contains(digest) { return (digest, size) }
        guard fsync(fd) == 0 else { throw ContentError.io(operation: "fsync blob", errno: errno) }
        fchmod(fd, 0o444)
        guard rename(directory + "/data", store.path(of: digest)) == 0 else {
            throw ContentError.io(operation: "commit blob \(digest)", errno: errno)
        }
        FileSystem.syncDirectory(store.root + "/blobs/sha256")
        return (digest, size)
    }

    /// Discards what was written so far, keeping the ingest open (a server that ignores a
    /// `Range` request sends the whole blob again).
    public func reset() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw ContentError.io(operation: "reset ingest data", errno: errno)
        }
        hasher = DigestHasher()
    }

    /// Drops the partial data.
    public func abort() {
        finished = true
        try? FileSystem.removeTree(directory)
    }
}
