import BerthSystem
import CBerthSys
import Glibc
import Synchronization

/// A container's network namespace made ahead of its start and pinned by a bind mount of its
/// nsfs file (as `ip netns add` pins one), so the engine can wire it before the runtime joins
/// it by path — with either runtime.
///
/// Namespace work runs on a thread of its own that ends with it: a thread that entered a
/// namespace never goes back to serve other work, so no task ever runs in the wrong one.
enum NetworkNamespace {
    /// Makes a new network namespace pinned at `path` (which must not exist) with `lo` up.
    static func create(at path: String) throws {
        let file = open(path, O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw NetlinkError(operation: "create \(path)", errno: errno) }
        Glibc.close(file)
        do {
            try onOwnThread {
                guard berth_unshare(berth_CLONE_NEWNET) == 0 else { throw NetlinkError(operation: "make a network namespace", errno: errno) }
                guard mount("/proc/thread-self/ns/net", path, nil, UInt(MS_BIND), nil) == 0 else {
                    throw NetlinkError(operation: "pin the network namespace at \(path)", errno: errno)
                }
                try Netlink().setUp(index: 1, name: "lo")
            }
        } catch {
            remove(at: path)
            throw error
        }
    }

    /// Runs `body` on a thread inside the namespace pinned at `path` and returns its result.
    static func run<T: Sendable>(in path: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = Mutex<T?>(nil)
        try onOwnThread {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw NetlinkError(operation: "open \(path)", errno: errno) }
            defer { Glibc.close(fd) }
            guard berth_setns(fd, berth_CLONE_NEWNET) == 0 else { throw NetlinkError(operation: "enter \(path)", errno: errno) }
            let value = try body()
            result.withLock { $0 = value }
        }
        guard let value = result.withLock({ $0 }) else { throw NetlinkError(operation: "run in \(path)", errno: EIO) }
        return value
    }

    /// Unpins and deletes the namespace at `path` (it ends when nothing else holds it); a
    /// missing one is no error.
    static func remove(at path: String) {
        _ = umount2(path, Int32(MNT_DETACH))
        unlink(path)
    }

    /// Runs `body` on a new thread and waits for it; its error is rethrown here.
    private static func onOwnThread(_ body: @escaping @Sendable () throws -> Void) throws {
        final class Work: @unchecked Sendable {
            let body: @Sendable () throws -> Void
            var failure: Error?
            init(_ body: @escaping @Sendable () throws -> Void) { self.body = body }
        }
        let work = Work(body)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(work).toOpaque()
        let created = pthread_create(&thread, nil, { raw in
            let work = Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue()
            do { try work.body() } catch { work.failure = error }
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<Work>.fromOpaque(context).release()
            throw NetlinkError(operation: "start a thread for namespace work", errno: created)
        }
        pthread_join(thread, nil)
        if let failure = work.failure { throw failure }
    }
}
