import BerthSystem
import Glibc

/// Short requests to a monitor's attach socket (`resize`), docs/internals.md §2.
enum MonitorControl {
    static func resize(socket path: String, rows: Int, columns: Int) async throws {
        try await ProcessRunner.offload {
            let fd = try connect(path)
            defer { close(fd) }
            let line = Array("resize \(rows) \(columns)\n".utf8)
            _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            var reply = [UInt8](repeating: 0, count: 16)
            _ = reply.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        }
    }

    /// A connected, blocking Unix stream socket to `path`.
    static func connect(_ path: String) throws -> Int32 {
        do {
            return try UnixSocketAddress.connect(path)
        } catch let failure as UnixSocketAddress.Failure {
            throw EngineError.failure("cannot reach the container's monitor at \(path): \(failure.reason)")
        }
    }
}
