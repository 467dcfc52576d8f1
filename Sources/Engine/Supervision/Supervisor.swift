import BerthSystem

/// Restarts containers by their restart policy and runs their health checks. It subscribes to
/// the engine's events: a container's `die` is the exit it judges (policy, exit code, manual
/// stop, retries, back-off) and ends its health checks, a `start` begins them; when the daemon
/// starts it starts what the policies say should run and checks the containers that run. The
/// waiting happens here, with the container shown as `restarting`; a `stop`, `kill`, `start`
/// or `rm` meanwhile cancels the pending restart.
public actor Supervisor {
    private let containers: ContainerService
    private let health: HealthChecker
    private var backoffs: [String: RestartBackoff] = [:]
    private var listening: Task<Void, Never>?

    public init(containers: ContainerService) {
        self.containers = containers
        self.health = HealthChecker(containers: containers)
    }

    /// Starts listening for exits, then starts the stopped containers whose policy says they
    /// run with the daemon (moby's daemon-restart rule).
    public func start() async {
        let subscription = containers.events.subscribe()
        listening = Task { [weak self] in
            for await event in subscription.events where event.type == .container {
                guard let self else { return }
                switch event.action {
                case "start": await self.health.begin(event.actorID)
                case "die":
                    await self.health.end(event.actorID)
                    await self.containerDied(event.actorID)
                case "destroy":
                    await self.health.end(event.actorID)
                    await self.forget(event.actorID)
                default: break
                }
            }
        }
        for record in await containers.list(all: false) where record.state.isRunning {
            await health.begin(record.id)
        }
        for record in await containers.list(all: true) where !record.state.isRunning && record.state.status == .exited {
            let policy = record.spec.restartPolicy
            let pending = record.state.restarting == true
            if pending || RestartBackoff.startsWithDaemon(policy: policy, exitCode: record.state.exitCode,
                                                          manuallyStopped: record.manuallyStopped == true, restartCount: record.restartCount) {
                await containers.restartByPolicy(record.id, afterNanoseconds: 0, withDaemon: true)
            }
        }
    }

    private func forget(_ id: String) {
        backoffs[id] = nil
    }

    private func containerDied(_ id: String) async {
        guard let record = try? await containers.resolve(id), !record.state.isRunning, record.spec.restartPolicy != .no else { return }
        let policy = record.spec.restartPolicy
        let ran = record.state.finishedAt.nanosecondsSince(record.state.startedAt)
        var backoff = backoffs[id] ?? RestartBackoff()
        guard let delay = backoff.next(policy: policy, exitCode: record.state.exitCode, manuallyStopped: record.manuallyStopped == true,
                                       restartCount: record.restartCount, ranNanoseconds: ran) else { return }
        backoffs[id] = backoff
        let containers = containers
        Task { await containers.restartByPolicy(id, afterNanoseconds: delay) }
    }
}
