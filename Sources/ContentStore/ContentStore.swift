#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import ContentDigest
import OCI
import BerthSystem

/// Blobs by digest under `<root>/blobs/<algorithm>/<encoded>`, as DESIGN.md lays out.
///
/// Guarantees: a blob is visible under its digest only after its full content was written,
/// fsynced and verified against the expected size and digest (an `IngestWriter` is committed by
/// `rename(2)`); a blob file is never modified after that; a crash at any instant leaves at most
/// removable partial data under `<root>/ingest/`. Safe to use from many threads and processes:
/// every visible change is one atomic rename.
public struct ContentStore: Sendable {
    /// The directory holding `blobs/` and `ingest/`.
    public let root: String

    /// Opens (and creates if needed) a store rooted at `root`.
    public init(root: String) throws {
        self.root = root
        try FileSystem.makeDirectories(root + "/blobs/sha256", mode: 0o700)
        try FileSystem.makeDirectories(root + "/ingest", mode: 0o700)
    }

    /// Path of the blob for `digest` (whether or not it exists). Safe as a path: a `Digest`'s
    /// encoded part cannot contain `/` or `..`.
    public func path(of digest: Digest) -> String {
        "\(root)/blobs/\(digest.algorithm)/\(digest.encoded)"
    }

    /// Size of the stored blob, or nil if the store does not hold it.
    public func size(of digest: Digest) -> Int64? {
        var st = stat()
        guard stat(path(of: digest), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// Whether the store holds `digest`.
    public func contains(_ digest: Digest) -> Bool { size(of: digest) != nil }

    /// Reads a whole blob (meant for manifests and configs, which are small). Throws
    /// `ContentError.notFound` when it is missing and `ContentError.corrupted` when the bytes on
    /// disk no longer hash to `digest`.
    public func read(_ digest: Digest, maximumSize: Int64 = 8 << 20) throws -> Data {
        guard let size = size(of: digest) else { throw ContentError.notFound(digest) }
        guard size <= maximumSize else { throw ContentError.tooLarge(digest, size: size, limit: maximumSize) }
        let bytes = try FileSystem.readFile(path(of: digest))
        // Blobs are stored under their sha256, so every stored blob can be re-verified.
        guard Digest.sha256(of: bytes) == digest else { throw ContentError.corrupted(digest) }
        return Data(bytes)
    }

    /// Stores `data`, verifying it against `expected` when given. Returns the descriptor-ready
    /// digest and size. Storing content the store already holds is a no-op.
    @discardableResult
    public func write(_ data: Data, expected: Digest? = nil) throws -> (digest: Digest, size: Int64) {
        let writer = try IngestWriter(store: self, ref: nil)
        do {
            try data.withUnsafeBytes { try writer.write($0) }
            return try writer.commit(expectedDigest: expected, expectedSize: expected == nil ? nil : Int64(data.count))
        } catch {
            writer.abort()
            throw error
        }
    }

    /// Copies the file at `path` into the store, hashing as it goes; verifies it against
    /// `expected` and `expectedSize` when given.
    @discardableResult
    public func importFile(_ sourcePath: String, expected: Digest? = nil, expectedSize: Int64? = nil) throws -> (digest: Digest, size: Int64) {
        let fd = open(sourcePath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ContentError.io(operation: "open \(sourcePath)", errno: errno) }
        defer { close(fd) }
        let writer = try IngestWriter(store: self, ref: nil)
        do {
            try writer.copy(from: fd, limit: expectedSize)
            return try writer.commit(expectedDigest: expected, expectedSize: expectedSize)
        } catch {
            writer.abort()
            throw error
        }
    }

    /// Starts (or, for a `ref` seen before, resumes) writing a blob. See `IngestWriter`.
    public func ingest(ref: String? = nil) throws -> IngestWriter {
        try IngestWriter(store: self, ref: ref)
    }

    /// Drops the partial data of `ref`, if any, without opening it.
    public func removeIngest(ref: String) {
        try? FileSystem.removeTree(root + "/ingest/" + IngestWriter.directoryName(ref: ref))
    }

    /// Removes a blob. Removing a blob that is not there is not an error.
    public func delete(_ digest: Digest) throws {
        if unlink(path(of: digest)) != 0 && errno != ENOENT {
            throw ContentError.io(operation: "remove \(digest)", errno: errno)
        }
    }

    /// All sha256 blobs in the store.
    public func list() -> [Digest] {
        FileSystem.listDirectory(root + "/blobs/sha256").compactMap { try? Digest(sha256Hex: $0) }
    }

    /// Removes partial ingests not touched for `olderThan` seconds (abandoned downloads), except
    /// those named in `keeping` (see `IngestWriter.directoryName(ref:)`). An ingest counts as
    /// touched when its directory or its data changed.
    public func removeStaleIngests(olderThan seconds: Int = 24 * 3600, keeping: Set<String> = []) {
        let now = time(nil)
        for name in FileSystem.listDirectory(root + "/ingest") where !keeping.contains(name) {
            var st = stat()
            let p = root + "/ingest/" + name
            guard stat(p, &st) == 0 else { continue }
            var touched = Int(st.st_mtim.tv_sec)
            if stat(p + "/data", &st) == 0 { touched = max(touched, Int(st.st_mtim.tv_sec)) }
            if Int(now) - touched >= seconds {
                try? FileSystem.removeTree(p)
            }
        }
    }
}

/// Errors of the content store; each names the blob involved.
public enum ContentError: Error, CustomStringConvertible, Equatable, Sendable {
    case notFound(Digest)
    case corrupted(Digest)
    case tooLarge(Digest, size: Int64, limit: Int64)
    case sizeMismatch(expected: Int64, actual: Int64)
    case digestMismatch(expected: Digest, actual: Digest)
    case io(operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .notFound(let d): return "blob \(d) not found in the content store"
        case .corrupted(let d): return "blob \(d) is corrupted on disk: its content no longer matches its digest"
        case .tooLarge(let d, let size, let limit): return "blob \(d) is \(size) bytes, more than the \(limit) allowed here"
        case .sizeMismatch(let e, let a): return "size mismatch: expected \(e) bytes, got \(a)"
        case .digestMismatch(let e, let a): return "digest mismatch: expected \(e), got \(a)"
        case .io(let op, let code): return "\(op): \(String(cString: strerror(code)))"
        }
    }
}
