import CBerthSys
import Glibc

/// Collects exit statuses of the monitor's children and of the orphans it inherits as a child
/// subreaper, driven by a signalfd for SIGCHLD.
///
/// Guarantees: every process that becomes the monitor's child is reaped (no zombies); the
/// status of a watched pid is kept even if it exits before the monitor learns the pid (the
/// runtime writes the pid file only after the process exists).
final class Reaper {
    /// Readable when SIGCHLD is pending; poll it and call `reap()`.
    let fd: Int32
    private var statuses: [pid_t: Int32] = [:]
    private var watched: Set<pid_t> = []
    private var collecting = true

    /// Blocks SIGCHLD and opens the signalfd. Call before starting any child.
    init() throws {
        fd = berth_signalfd_sigchld()
        guard fd >= 0 else { throw MonitorError.system(operation: "create a signalfd for SIGCHLD", errno: errno) }
    }

    /// Drains the signalfd and reaps every child that has exited.
    func reap() {
        var buffer = [UInt8](repeating: 0, count: 512)
        while case .data = Sys.read(fd, into: &buffer) {}
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            if collecting || watched.contains(pid) { statuses[pid] = status }
        }
    }

    /// Watches `pid` and stops keeping the statuses of other children (orphans are still
    /// reaped, their statuses dropped); statuses kept so far are forgotten except `pid`'s.
    /// Until this is called every status is kept, because the supervised pid is not known yet.
    func keepOnly(_ pid: pid_t) {
        watched.insert(pid)
        collecting = false
        statuses = statuses.filter { $0.key == pid }
    }

    /// Keeps the status of `pid` when it is reaped.
    func watch(_ pid: pid_t) { watched.insert(pid) }

    /// The status of `pid` once it has been reaped, nil while it runs.
    func status(of pid: pid_t) -> ExitStatus? {
        statuses[pid].map { ExitStatus(waitStatus: $0) }
    }
}
