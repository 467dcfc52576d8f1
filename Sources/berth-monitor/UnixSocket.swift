import Glibc

/// Listening Unix stream sockets for attach.sock and the console socket.
enum UnixSocket {
    /// Binds and listens on `path` with mode 0600 (set through the umask, so the socket is
    /// never reachable with wider permissions). A stale file at `path` is replaced. The
    /// descriptor is non-blocking and close-on-exec.
    static func listen(at path: String) throws -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw MonitorError.socketPathTooLong(path)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (offset, byte) in bytes.enumerated() { raw[offset] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw MonitorError.system(operation: "create socket \(path)", errno: errno) }
        unlink(path)
        let previousMask = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
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
