import BerthSystem
import Glibc

/// Listening Unix stream sockets for attach.sock and the console socket.
enum UnixSocket {
    /// Binds and listens on `path` with mode 0600 (set through the umask, so the socket is
    /// never reachable with wider permissions). A stale file at `path` is replaced. The
    /// descriptor is non-blocking and close-on-exec.
    static func listen(at path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw MonitorError.system(operation: "create socket \(path)", errno: errno) }
        unlink(path)
        let previousMask = umask(0o177)
        let bound: Int32
        do {
            bound = try UnixSocketAddress.withAddress(of: path) { bind(fd, $0, $1) }
        } catch {
            umask(previousMask)
            close(fd)
            throw MonitorError.socketPathTooLong(path)
        }
        let bindErrno = errno
        umask(previousMask)
        guard bound == 0 else {
            close(fd)
            throw MonitorError.system(operation: "bind \(path)", errno: bindErrno)
        }
        guard Glibc.listen(fd, 16) == 0 else {
            let listenErrno = errno
            close(fd)
            throw MonitorError.system(operation: "listen on \(path)", errno: listenErrno)
        }
        return fd
    }

    /// Accepts one pending connection as a non-blocking, close-on-exec descriptor (the monitor
    /// is single-threaded, so nothing can exec between accept and fcntl); nil when none is
    /// pending or accept failed.
    static func accept(_ listener: Int32) -> Int32? {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                Sys.setCloseOnExec(fd)
                Sys.setNonBlocking(fd)
                return fd
            }
            if errno == EINTR { continue }
            return nil
        }
    }
}
