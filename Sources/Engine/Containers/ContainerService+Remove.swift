import BerthSystem
import Glibc

extension ContainerService {
    /// `docker rm`: refuses a running container unless `force` (then kills it first); removes
    /// its writable layer, its directory and its record, and wakes `wait(condition: removed)`.
    /// With `volumes` (`rm -v`) its anonymous volumes that no other container uses go too.
    public func remove(_ reference: String, force: Bool, volumes removeVolumes: Bool = false) async throws {
        let record = try resolve(reference)
        // Killed before waiting for the container's turn: a `stop` with a long timeout holding
        // it then ends at once, as `docker rm -f` ends a pending stop.
        if force && record.state.isRunning { try? await kill(record.id, signal: "KILL") }
        let id = record.id
        try await exclusively(id) { try await removeLocked(id, force: force, volumes: removeVolumes) }
    }

    /// `remove` for a caller that already holds the container's operation turn.
    func removeLocked(_ id: String, force: Bool, volumes removeVolumes: Bool = false) async throws {
        var record = try resolve(id)
        if record.state.isRestarting && !force {
            throw EngineError.conflict("You cannot remove a restarting container \(record.id). Stop the container before attempting removal or force remove")
        }
        if record.state.isRunning {
            guard force else { throw EngineError.containerRunning(record.id) }
            try? await kill(record.id, signal: "KILL")
            _ = try? await wait(record.id, condition: .notRunning, timeoutNanoseconds: 30_000_000_000)
            record = try resolve(record.id)
            if record.state.isRunning {
                throw EngineError.failure("could not kill running container \(record.id), cannot remove")
            }
        }
        guard record.state.status != .removing else {
            throw EngineError.conflict("removal of container \(record.id) is already in progress")
        }
        record.state.status = .removing
        containers[record.id] = record
        let dir = directory(of: record.id)
        try? snapshots.unmount(dir + "/rootfs")
        await detachNetwork(&record)
        // The monitor deletes the runtime's state when the container exits; only a container
        // whose monitor died still has some.
        if FileSystem.exists(configuration.runtimeRoot(for: record.runtime) + "/" + record.id) {
            _ = try? await tasks.runRuntime(record.runtime, ["delete", "--force", record.id])
        }
        // Out of the way at once, deleted in the background: `docker run --rm` returns as soon as
        // the container is gone, not once its ~25 files and directories are (about 1.3 ms of
        // `berth run --rm` here, on ext4 mounted with online discard).
        do {
            let trash = configuration.trashRoot
            try snapshots.remove(container: record.id) { try Trash.discard($0, into: trash) }
            try Trash.discard(dir, into: trash)
            try? Trash.discard(monitorDirectory(of: record.id), into: configuration.execTrashRoot)
        } catch {
            record.state.status = .dead
            record.state.error = "removal failed: \(error)"
            try? update(record)
            throw EngineError.failure("unable to remove container \(record.id): \(error)")
        }
        containers[record.id] = nil
        publish("destroy", record)
        await volumes.release(container: record.id, removeAnonymous: removeVolumes)
        for exec in execs.values where exec.containerID == record.id { try? FileSystem.removeTree(execDirectory(exec)) }
        execs = execs.filter { $0.value.containerID != record.id }
        resumeWaiters(record.id, conditions: [.removed, .notRunning, .nextExit], result: WaitResult(statusCode: record.state.exitCode, error: nil))
    }
}

extension ContainerService {
    /// `docker container prune`: removes every stopped container `include` accepts (never a
    /// running, restarting or paused one); answers their IDs and the bytes their writable
    /// layers took.
    public func prune(where include: (ContainerRecord) -> Bool) async -> (ids: [String], reclaimed: Int64) {
        var ids: [String] = []
        var reclaimed: Int64 = 0
        for record in list(all: true) where !record.state.isRunning && !record.state.isRestarting && record.state.status != .removing && include(record) {
            let size = (try? snapshots.usage(container: record.id)) ?? 0
            guard (try? await remove(record.id, force: false)) != nil else { continue }
            ids.append(record.id)
            reclaimed += size
        }
        return (ids, reclaimed)
    }

    /// Bytes of the container's writable layer (docker's `SizeRw`); 0 when unknown.
    public func writableLayerSize(_ id: String) -> Int64 {
        (try? snapshots.usage(container: id)) ?? 0
    }
}
