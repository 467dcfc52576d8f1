#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Glibc

extension ContainerService {
    /// Loads every container record and reconciles it with what survived a daemon restart:
    /// a container whose monitor recorded an exit is exited with that code; one whose monitor
    /// still runs is watched again; one whose monitor vanished is resolved by `monitorExited`.
    /// Containers left half-removed are finished off.
    public func loadAndReconcile() async {
        let (records, problems) = store.loadAll()
        startupProblems += problems
        for record in records { containers[record.id] = record }
        for record in records {
            switch record.state.status {
            case .removing:
                try? await remove(record.id, force: true)
            case .running:
                let monitor = record.state.monitorPID
                if monitor > 0, Self.isMonitor(monitor) {
                    let id = record.id
                    watcher.watch(pid: monitor) { [self] in Task { await self.monitorExited(id) } }
                } else {
                    await monitorExited(record.id)
                }
            case .created, .exited, .dead:
                break
            }
        }
    }

    /// Whether `pid` is a live `berth-monitor` (not a recycled PID).
    static func isMonitor(_ pid: Int32) -> Bool {
        guard let cmdline = try? FileSystem.readFile("/proc/\(pid)/cmdline") else { return false }
        return String(decoding: cmdline, as: UTF8.self).contains("berth-monitor") && processExists(pid)
    }
}
