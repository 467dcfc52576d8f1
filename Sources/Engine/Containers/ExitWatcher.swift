import CBerthSys
import Dispatch
import Glibc
import Synchronization

/// Tells the engine when a monitor process ends, whether or not it is the daemon's child (after
/// a daemon restart monitors belong to no one). One thread polls a pidfd per monitor, so
/// watching costs no thread per container.
final class ExitWatcher: Sendable {
    private struct Watch {
        let pid: pid_t
        let onExit: @Sendable () -> Void
    }

    private let watches = Mutex<[Int32: Watch]>([:])
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init() {
        var fds: [Int32] = [0, 0]
        berth_pipe2(&fds, O_CLOEXEC | O_NONBLOCK)
        wakeRead = fds[0]
        wakeWrite = fds[1]
        DispatchQueue(label: "berth.exit-watcher").async { [self] in loop() }
    }

    /// Calls `onExit` once, on the watcher's thread, when `pid` has exited (at once if it
    /// already has). A child of the daemon is reaped.
    func watch(pid: pid_t, onExit: @escaping @Sendable () -> Void) {
        let fd = berth_pidfd_open(pid)
        guard fd >= 0 else {
            reap(pid)
            onExit()
            return
        }
        watches.withLock { $0[fd] = Watch(pid: pid, onExit: onExit) }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func loop() {
        while true {
            var pollfds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            pollfds += watches.withLock { $0.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) } }
            let n = poll(&pollfds, nfds_t(pollfds.count), -1)
            if n < 0 { continue }
            if pollfds[0].revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 64)
                while read(wakeRead, &buffer, buffer.count) > 0 {}
            }
            for p in pollfds.dropFirst() where p.revents != 0 {
                guard let watch = watches.withLock({ $0.removeValue(forKey: p.fd) }) else { continue }
                close(p.fd)
                reap(watch.pid)
                watch.onExit()
            }
        }
    }

    private func reap(_ pid: pid_t) {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }
}
