import BerthSystem
import Dispatch
import Glibc
import Synchronization

/// Starts the kernel's switch of the cgroup attach lock into writer mode ahead of a container
/// start, off the start's path. Moving a process into a cgroup (every container start) takes
/// that lock for writing; on a kernel without `favordynmods` the first writer after a quiet
/// moment waits for an RCU grace period (7.8 ms median measured here), and writers that come
/// during that wait, or within a grace period after the last one, do not wait again. So when a
/// container is created or started, the daemon moves itself into the cgroup it is already in
/// (a no-op move that takes the same lock) on a background thread; by the time the runtime
/// moves the container's init, most or all of the wait is over. Best effort: without a
/// writable cgroup.procs of its own it does nothing, and failures are ignored.
final class CgroupLockPrimer: Sendable {
    /// This process's own cgroup.procs, or nil when none was found.
    let procsFile: String?
    private let lastPrimed = Mutex<ContinuousClock.Instant?>(nil)
    /// Within this long of the last priming another one cannot help: that one's grace period
    /// is still running or has just ended.
    static let interval = Duration.milliseconds(5)

    /// A primer for this process, its cgroup found from `/proc/self/cgroup` under
    /// `/sys/fs/cgroup` (cgroup2 at the top or at `unified/`, else the v1 `pids` hierarchy).
    convenience init() {
        let table = (try? FileSystem.readFile("/proc/self/cgroup")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        self.init(procsFile: CgroupLockPrimer.ownProcsFile(cgroupTable: table, exists: { access($0, W_OK) == 0 }))
    }

    init(procsFile: String?) {
        self.procsFile = procsFile
    }

    /// Moves this process into its own cgroup on a background thread, unless that was done
    /// within `interval`. Returns whether it did.
    @discardableResult
    func prime() -> Bool {
        guard let procsFile else { return false }
        let now = ContinuousClock.now
        let due = lastPrimed.withLock { last -> Bool in
            if let last, now - last < CgroupLockPrimer.interval { return false }
            last = now
            return true
        }
        guard due else { return false }
        DispatchQueue.global(qos: .userInitiated).async {
            let fd = open(procsFile, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            try? FileSystem.writeAll(fd, Array("\(getpid())".utf8))
            close(fd)
        }
        return true
    }

    /// The cgroup.procs of the cgroup `cgroupTable` (the text of `/proc/self/cgroup`) puts
    /// this process in, for the first candidate `exists` accepts: the cgroup2 entry (`0::/p`)
    /// at `/sys/fs/cgroup/p` or `/sys/fs/cgroup/unified/p`, then the v1 `pids` entry at
    /// `/sys/fs/cgroup/pids/p`.
    static func ownProcsFile(cgroupTable: String, exists: (String) -> Bool) -> String? {
        var candidates: [String] = []
        for line in cgroupTable.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[2].hasPrefix("/") else { continue }
            let path = fields[2] == "/" ? "" : String(fields[2])
            if fields[0] == "0" && fields[1].isEmpty {
                candidates.insert(contentsOf: ["/sys/fs/cgroup\(path)/cgroup.procs", "/sys/fs/cgroup/unified\(path)/cgroup.procs"], at: 0)
            } else if fields[1].split(separator: ",").contains("pids") {
                candidates.append("/sys/fs/cgroup/pids\(path)/cgroup.procs")
            }
        }
        return candidates.first(where: exists)
    }
}
