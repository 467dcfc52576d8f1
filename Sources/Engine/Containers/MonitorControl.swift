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
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw EngineError.failure("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw EngineError.failure("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw EngineError.failure("cannot reach the container's monitor at \(path): \(String(cString: strerror(code)))")
        }
        return fd
    }
}
