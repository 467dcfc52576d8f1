import Glibc

/// Unix-domain stream socket addresses and connections, shared by the daemon, the CLI, the
/// runtime and the monitor.
public enum UnixSocketAddress {
    /// Why a socket could not be reached.
    public enum Failure: Error, Equatable, Sendable {
        /// The path does not fit in `sockaddr_un` (107 bytes).
        case pathTooLong(String)
        /// A system call failed: which, and the errno.
        case system(operation: String, errno: Int32)

        /// A sentence for the user.
        public var reason: String {
            switch self {
            case .pathTooLong(let path): return "socket path \(path) is longer than 107 bytes"
            case .system(_, let code): return String(cString: strerror(code))
            }
        }
    }

    /// Calls `body` with the address of `path`; throws `pathTooLong` when it does not fit.
    public static func withAddress<T>(of path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) throws -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw Failure.pathTooLong(path) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// A new blocking, close-on-exec stream socket connected to `path`.
    public static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure.system(operation: "socket", errno: errno) }
        do {
            let rc = try withAddress(of: path) { Glibc.connect(fd, $0, $1) }
            guard rc == 0 else { throw Failure.system(operation: "connect to \(path)", errno: errno) }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }
}
