import BerthSystem
import Glibc
import NIOCore

/// Collects a request body: in memory while small, spilled to a temporary file beyond
/// `memoryLimit` (image uploads can be gigabytes).
struct BodyCollector {
    private let spillDirectory: String
    private let memoryLimit: Int
    private var bytes: [UInt8] = []
    private var fd: Int32 = -1
    private var path: String?
    private(set) var failure: String?

    init(spillDirectory: String, memoryLimit: Int = 1 << 20) {
        self.spillDirectory = spillDirectory
        self.memoryLimit = memoryLimit
    }

    mutating func append(_ buffer: ByteBuffer) {
        guard failure == nil else { return }
        buffer.withUnsafeReadableBytes { raw in
            if fd < 0 && bytes.count + raw.count <= memoryLimit {
                bytes.append(contentsOf: raw)
                return
            }
            if fd < 0 { spill() }
            guard fd >= 0 else { return }
            do { try FileSystem.writeAll(fd, Array(raw)) } catch { failure = "cannot store the request body: \(error)" }
        }
    }

    private mutating func spill() {
        let p = "\(spillDirectory)/upload-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            failure = "cannot store the request body in \(spillDirectory): \(String(cString: strerror(errno)))"
            return
        }
        path = p
        do { try FileSystem.writeAll(fd, bytes) } catch { failure = "cannot store the request body: \(error)" }
        bytes = []
    }

    /// The finished body; closes the spill file.
    mutating func finish() -> RequestBody {
        if fd >= 0 { close(fd); fd = -1 }
        if let path { return .file(path: path) }
        return bytes.isEmpty ? .none : .bytes(bytes)
    }
}
