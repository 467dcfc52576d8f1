import Glibc

/// An exclusive `flock` on `<root>/registry.lock`, held by a running server or `gc` (and on a
/// stand-alone forwarder's state directory by `replicate`). The kernel
/// drops it when the process dies (even by `kill -9`), so a stale lock never blocks a restart.
public final class RootLock: Sendable {
    private let fd: Int32

    /// Takes the lock; throws `RegistryServerError.rootInUse` when another process has it.
    public init(root: String) throws {
        mkdir(root, 0o755)
        let path = root + "/registry.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RegistryServerError.storage(reason: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw RegistryServerError.rootInUse(root: root)
        }
        self.fd = fd
    }

    /// Releases the lock.
    public func release() { close(fd) }
}
