#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Glibc

extension ContainerService {
    /// The container's health check with defaults filled in; nil when it has none.
    public func healthSchedule(of id: String) -> HealthSchedule? {
        containers[id].flatMap { HealthSchedule($0.spec.healthcheck) }
    }

    /// Runs the health check's command once in the running container (as an exec of its
    /// process, through the runtime), at most `schedule.timeoutNanoseconds`. Nil when the
    /// container is not running or is paused (no probe then, as in docker).
    public func probeHealth(_ id: String, schedule: HealthSchedule) async -> HealthProbe? {
        guard let record = containers[id], record.state.isRunning, !record.state.isPaused else { return nil }
        let start = Timestamp.now()
        let path = monitorDirectory(of: id) + "/health-\(UInt64.random(in: 0...UInt64.max)).json"
        defer { unlink(path) }
        do {
            let process = try execProcess(in: record, exec: ExecSpec(cmd: schedule.command))
            try FileSystem.writeAtomically(path, bytes: Array(JSONEncoder().encode(process)), mode: 0o600, durable: false)
            guard let result = try await tasks.runRuntime(record.runtime, ["exec", "--process", path, id],
                                                         timeoutNanoseconds: schedule.timeoutNanoseconds, outputLimit: 4096) else {
                let limit = GoDuration.format(nanoseconds: schedule.timeoutNanoseconds)
                return HealthProbe(start: start, end: .now(), exitCode: -1, output: "Health check exceeded timeout (\(limit))")
            }
            return HealthProbe(start: start, end: .now(), exitCode: result.status, output: String(decoding: result.output, as: UTF8.self))
        } catch {
            return HealthProbe(start: start, end: .now(), exitCode: -1, output: "\(error)")
        }
    }

    /// Records a probe's result in the container's state (persisted) and publishes
    /// `health_status: …` when the status changes.
    public func recordHealth(_ id: String, _ probe: HealthProbe, schedule: HealthSchedule, countsFailures: Bool) {
        guard var record = containers[id], record.state.isRunning else { return }
        let before = record.state.health ?? .starting
        let after = before.recording(probe, retries: schedule.retries, countsFailures: countsFailures)
        record.state.health = after
        try? update(record, durable: false)
        if after.status != before.status { publish("health_status: " + after.status.rawValue, record) }
    }
}
