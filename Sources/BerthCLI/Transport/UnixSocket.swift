import Glibc

/// A connected, blocking Unix-domain stream socket. Closes its descriptor when released.
final class UnixSocket {
    /// The socket's file descriptor, valid until the socket is released.
    let fd: Int32

    /// Connects to the socket at `path`; `host` is the user-facing address used in errors.
    init(path: String, host: String) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw CLIError.daemonUnreachable(host: host, reason: "socket path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw CLIError.system(operation: "socket", errno: errno) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw CLIError.daemonUnreachable(host: host, reason: String(cString: strerror(code)))
        }
        self.fd = fd
    }

    /// Reads what is available (blocking until at least one byte or end of stream).
    func read(max: Int = 65536) throws -> [UInt8] { try FDIO.read(fd, max: max) }

    /// Writes all of `bytes`.
    func write<C: Collection>(_ bytes: C) throws where C.Element == UInt8 { try FDIO.write(fd, bytes) }

    /// Half-closes the connection: the peer reads end of stream, we can still read.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    deinit { close(fd) }
}
