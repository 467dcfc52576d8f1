import BerthSystem
import Glibc

/// A connected, blocking Unix-domain stream socket. Closes its descriptor when released.
final class UnixSocket {
    /// The socket's file descriptor, valid until the socket is released.
    let fd: Int32

    /// Connects to the socket at `path`; `host` is the user-facing address used in errors.
    init(path: String, host: String) throws {
        do {
            fd = try UnixSocketAddress.connect(path)
        } catch let failure as UnixSocketAddress.Failure {
            throw CLIError.daemonUnreachable(host: host, reason: failure.reason)
        }
    }

    /// Reads what is available (blocking until at least one byte or end of stream).
    func read(max: Int = 65536) throws -> [UInt8] { try FDIO.read(fd, max: max) }

    /// Writes all of `bytes`.
    func write<C: Collection>(_ bytes: C) throws where C.Element == UInt8 { try FDIO.write(fd, bytes) }

    /// Half-closes the connection: the peer reads end of stream, we can still read.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    deinit { close(fd) }
}
