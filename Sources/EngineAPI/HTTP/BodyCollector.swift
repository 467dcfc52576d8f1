import BerthSystem
import Glibc
import NIOCore
import NIOHTTP1

/// Collects a request body: in memory while small, spilled to a temporary file beyond
/// `memoryLimit` (image uploads can be gigabytes). Bodies of endpoints that take JSON are
/// capped at `jsonLimit`; only the archive endpoints may spill to disk.
struct BodyCollector {
    /// Why a body was refused.
    enum Failure: Equatable {
        /// Over the limit of its endpoint: answered 413.
        case tooLarge(limit: Int)
        /// The spill file could not be written: answered 500.
        case storage(String)

        var status: HTTPResponseStatus {
            if case .tooLarge = self { return .payloadTooLarge }
            return .internalServerError
        }

        var message: String {
            switch self {
            case let .tooLarge(limit): return "request body too large: this endpoint takes at most \(limit) bytes"
            case let .storage(reason): return reason
            }
        }
    }

    /// The largest JSON body accepted (a container's create request with every option is a few KiB).
    static let jsonLimit = 4 << 20

    private let spillDirectory: String
    private let memoryLimit: Int
    /// nil for endpoints whose body is an archive (spilled to disk, as large as it is).
    private let limit: Int?
    private var bytes: [UInt8] = []
    private var received = 0
    private var fd: Int32 = -1
    private var path: String?
    private(set) var failure: Failure?

    init(spillDirectory: String, limit: Int?, memoryLimit: Int = 1 << 20) {
        self.spillDirectory = spillDirectory
        self.limit = limit
        self.memoryLimit = memoryLimit
    }

    /// The limit for a request: none for the endpoints that take an archive or other content
    /// as their body (image import and load, build contexts, container archives, artifacts),
    /// `jsonLimit` for every other one.
    static func limit(for head: HTTPRequestHead) -> Int? {
        let path = RequestTarget.parse(head.uri).path
        let archiveEndpoints = ["/images/create", "/images/load", "/build"]
        if archiveEndpoints.contains(path) || path.hasSuffix("/archive") || path.hasSuffix("/referrers") { return nil }
        return jsonLimit
    }

    mutating func append(_ buffer: ByteBuffer) {
        guard failure == nil else { return }
        received += buffer.readableBytes
        if let limit, received > limit {
            failure = .tooLarge(limit: limit)
            bytes = []
            return
        }
        buffer.withUnsafeReadableBytes { raw in
            if fd < 0 && bytes.count + raw.count <= memoryLimit {
                bytes.append(contentsOf: raw)
                return
            }
            if fd < 0 { spill() }
            guard fd >= 0 else { return }
            do { try FileSystem.writeAll(fd, Array(raw)) } catch { failure = .storage("cannot store the request body: \(error)") }
        }
    }

    private mutating func spill() {
        let p = "\(spillDirectory)/upload-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            failure = .storage("cannot store the request body in \(spillDirectory): \(String(cString: strerror(errno)))")
            return
        }
        path = p
        do { try FileSystem.writeAll(fd, bytes) } catch { failure = .storage("cannot store the request body: \(error)") }
        bytes = []
    }

    /// The finished body; closes the spill file. A failed body is discarded (nothing kept).
    mutating func finish() -> RequestBody {
        if fd >= 0 { close(fd); fd = -1 }
        if failure != nil {
            abandon()
            return .none
        }
        if let path { return .file(path: path) }
        return bytes.isEmpty ? .none : .bytes(bytes)
    }

    /// Frees what was received of a body that will never be finished (the client went away):
    /// closes and removes the spill file.
    mutating func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        if let path { unlink(path) }
        path = nil
        bytes = []
    }
}
