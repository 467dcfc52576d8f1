import BerthSystem

/// Runs the health checks of running containers: one loop per container, begun when it
/// starts and ended when it dies. Each loop waits the start interval during the start period
/// and the interval after it, probes, and records the result; failures count once the start
/// period is over or a probe has succeeded (docker's rule).
actor HealthChecker {
    private let containers: ContainerService
    private var loops: [String: Task<Void, Never>] = [:]

    init(containers: ContainerService) {
        self.containers = containers
    }

    /// Begins checking `id` if it has a health check (restarting any loop it had).
    func begin(_ id: String) async {
        end(id)
        guard let schedule = await containers.healthSchedule(of: id) else { return }
        let containers = containers
        loops[id] = Task {
            let started = Timestamp.now()
            var counting = schedule.startPeriodNanoseconds == 0
            while !Task.isCancelled {
                if !counting, Timestamp.now().nanosecondsSince(started) >= schedule.startPeriodNanoseconds { counting = true }
                let wait = counting ? schedule.intervalNanoseconds : schedule.startIntervalNanoseconds
                try? await Task.sleep(nanoseconds: wait)
                guard !Task.isCancelled else { return }
                if !counting, Timestamp.now().nanosecondsSince(started) >= schedule.startPeriodNanoseconds { counting = true }
                guard let probe = await containers.probeHealth(id, schedule: schedule) else { continue }
                guard !Task.isCancelled else { return }
                if probe.exitCode == 0 { counting = true }
                await containers.recordHealth(id, probe, schedule: schedule, countsFailures: counting)
            }
        }
    }

    /// Stops checking `id`.
    func end(_ id: String) {
        loops.removeValue(forKey: id)?.cancel()
    }
}
