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
    /// Containers left half-removed are finished off, a start the daemon did not see to its
    /// end is resolved from the monitor's files, and what a create or remove interrupted by a
    /// crash left without a record (a container directory, a snapshot) is swept away.
    public func loadAndReconcile() async {
        let (records, problems) = store.loadAll()
        startupProblems += problems
        for record in records { containers[record.id] = record }
        sweepLeftovers()
        // Every recorded address is taken until its container is known to have stopped.
        for endpoint in records.flatMap(\.endpoints) { await attachments?.register(endpoint) }
        for record in records { await registerVolumes(record) }
        for record in records {
            if record.state.startPending == true, record.state.status == .created || record.state.status == .exited {
                await reconcileInterruptedStart(record)
                continue
            }
            switch record.state.status {
            case .removing:
                try? await remove(record.id, force: true)
            case .running:
                let monitor = record.state.monitorPID
                if monitor > 0, Self.isMonitor(monitor) {
                    let id = record.id
                    tasks.watch(pid: monitor) { [self] in Task { await self.monitorExited(id) } }
                } else {
                    await monitorExited(record.id)
                }
            case .created, .exited, .dead:
                break
            }
        }
        // Endpoints of containers that stopped while no daemon watched (or whose start a crash
        // cut short) are taken down now.
        for var record in containers.values where record.networkNamespace != nil && !record.state.isRunning {
            await detachNetwork(&record)
            try? update(record)
        }
        await attachments?.sweepSandboxes(keeping: Set(containers.values.compactMap(\.networkNamespace)))
    }

    /// Adds a problem for `berthd` to report at start-up.
    public func reportStartupProblem(_ problem: String) {
        startupProblems.append(problem)
    }

    /// Tells the volume service which volumes the container uses (and, while it runs, keeps
    /// mounted).
    private func registerVolumes(_ record: ContainerRecord) async {
        do {
            try await volumes.use(record.volumeNames, by: record.id)
            if record.state.isRunning {
                for name in record.volumeNames { try await volumes.activate(name, for: record.id) }
            }
        } catch {
            startupProblems.append("container \(record.id): \(error)")
        }
    }

    /// A start interrupted by the daemon's death: running if its monitor lives, exited if the
    /// monitor recorded an exit, else created again with nothing of the attempt left mounted.
    private func reconcileInterruptedStart(_ record: ContainerRecord) async {
        var record = record
        record.state.startPending = nil
        let dir = monitorDirectory(of: record.id)
        let monitor = Self.pid(inFile: dir + "/monitor.pid")
        if let monitor, Self.isMonitor(monitor) {
            record.state = ContainerState(status: .running, pid: Self.pid(inFile: dir + "/init.pid") ?? 0, exitCode: 0, error: "",
                                          startedAt: .now(), finishedAt: .zero, oomKilled: false, monitorPID: monitor)
            try? update(record)
            let id = record.id
            tasks.watch(pid: monitor) { [self] in Task { await self.monitorExited(id) } }
            return
        }
        if FileSystem.exists(dir + "/exit.json") {
            record.state.status = .running
            containers[record.id] = record
            await monitorExited(record.id)
            return
        }
        try? snapshots.unmount(directory(of: record.id) + "/rootfs")
        if FileSystem.exists(configuration.runtimeRoot(for: record.runtime) + "/" + record.id) {
            _ = try? await tasks.runRuntime(record.runtime, ["delete", "--force", record.id])
        }
        try? update(record)
    }

    /// Removes container directories without a record and container snapshots without a
    /// container directory: what a create or remove left when the daemon died in its middle.
    private func sweepLeftovers() {
        for id in FileSystem.listDirectory(configuration.containersRoot) where containers[id] == nil {
            let dir = directory(of: id)
            guard !FileSystem.exists(dir + "/container.json") else { continue }
            try? Trash.discard(dir, into: configuration.trashRoot)
        }
        for id in snapshots.containerIDs() where containers[id] == nil && !FileSystem.exists(directory(of: id)) {
            try? snapshots.remove(container: id) { try Trash.discard($0, into: configuration.trashRoot) }
        }
    }

    /// The PID written in a pid file, if it holds one.
    static func pid(inFile path: String) -> Int32? {
        guard let bytes = try? FileSystem.readFile(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace).first.flatMap { Int32($0) }
    }

    /// Whether `pid` is a live `berth-monitor` (not a recycled PID).
    static func isMonitor(_ pid: Int32) -> Bool {
        guard let cmdline = try? FileSystem.readFile("/proc/\(pid)/cmdline") else { return false }
        return String(decoding: cmdline, as: UTF8.self).contains("berth-monitor") && processExists(pid)
    }
}
