#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import Glibc
import OCI

/// What `wait` waits for (docker's `condition=`).
public enum WaitCondition: String, Sendable {
    case notRunning = "not-running"
    case nextExit = "next-exit"
    case removed
}

/// The answer of `wait`.
public struct WaitResult: Sendable, Equatable {
    public var statusCode: Int32
    public var error: String?
}

struct Waiter {
    let token: UInt64
    let condition: WaitCondition
    let continuation: CheckedContinuation<WaitResult?, Never>
}

/// What the monitor records when the container's process ends (docs/internals.md §2).
struct ExitRecord: Decodable {
    var exitCode: Int32
    var finishedAt: String?
}

extension ContainerService {
    // MARK: Start

    /// `docker start`: mounts the rootfs, writes the bundle, starts the monitor (which creates
    /// and starts the container, keeping its output for the attach clients that wait for this
    /// start), then lets those clients connect. Throws `notModified` when it already runs.
    /// One operation at a time per container (`exclusively`); the record notes the start
    /// before the monitor is launched, so a daemon killed meanwhile finds out what became of it.
    public func start(_ reference: String) async throws {
        let id = try resolve(reference).id
        try await exclusively(id) {
            try startedByUser(id)
            try await startLocked(id)
        }
    }

    /// A start the user asked for: the container is no longer "manually stopped", its restart
    /// count starts again from zero and a pending restart by policy is taken over (docker's
    /// `ResetRestartManager`).
    private func startedByUser(_ id: String) throws {
        var record = try resolve(id)
        guard !record.state.isRunning else { return }
        record.manuallyStopped = nil
        record.restartCount = 0
        record.state.restarting = nil
        try update(record)
    }

    /// Starts a container after `afterNanoseconds` because its restart policy says so (the
    /// `Supervisor` decides): shown as `restarting` meanwhile; skipped when a stop, kill, start
    /// or remove came first. A start that fails counts as another exit (exit code 128), so
    /// the policy and its back-off apply to it again. `withDaemon` is the start of a container
    /// when the daemon starts, which overrides an earlier manual stop (docker's `always`).
    public func restartByPolicy(_ id: String, afterNanoseconds delay: UInt64, withDaemon: Bool = false) async {
        guard var record = containers[id], !record.state.isRunning else { return }
        if withDaemon { record.manuallyStopped = nil }
        guard record.manuallyStopped != true else { return }
        if record.state.restarting != true {
            record.state.restarting = true
            record.restartCount += 1
            try? update(record)
        }
        if delay > 0 { try? await Task.sleep(nanoseconds: delay) }
        try? await exclusively(id) {
            guard let current = containers[id], current.state.isRestarting, current.manuallyStopped != true else { return }
            do {
                try await startLocked(id)
            } catch {
                guard var failed = containers[id], !failed.state.isRunning else { return }
                failed.state.restarting = nil
                failed.state.exitCode = 128
                failed.state.finishedAt = .now()
                try? update(failed)
                publish("die", failed, ["exitCode": "128"])
            }
        }
    }

    private func startLocked(_ id: String) async throws {
        var record = try resolve(id)
        guard !record.state.isRunning else { throw EngineError.notModified }
        cgroupLock.prime()
        let dir = directory(of: record.id)
        let rootfs = dir + "/rootfs"
        let monitorDir = monitorDirectory(of: record.id)
        try? FileSystem.removeTree(monitorDir)
        try FileSystem.makeDirectories(monitorDir, mode: 0o700)
        guard symlink(logPath(of: record.id), monitorDir + "/container-json.log") == 0 else {
            throw EngineError.failure("cannot prepare \(monitorDir): \(String(cString: strerror(errno)))")
        }
        // Journaled before anything a crash could leave behind (the mount, the monitor); not
        // synced: a power loss ends the container too, so only the daemon's death matters.
        record.state.startPending = true
        try update(record, durable: false)
        do {
            try snapshots.mount(container: record.id, at: rootfs, idMapping: try record.userNamespace.map(layerIDMapping))
        } catch {
            record.state.startPending = nil
            try? update(record)
            throw error
        }
        let started: MonitorLauncher.Started
        do {
            try await prepareVolumes(of: record, rootfs: rootfs)
            let user = try UserResolver(rootfs: rootfs).resolve(record.spec.process.user, groupAdd: record.spec.security.groupAdd)
            let joins = try namespaceJoins(record)
            let hostname = !record.spec.hostname.isEmpty ? record.spec.hostname : record.spec.network.isHost ? Self.hostName() : record.shortID
            if let attachments, record.spec.network.isBridged {
                // Recorded before the monitor starts: a daemon killed now still knows what to take down.
                let sandbox = try await attachments.makeSandbox(for: record.id, sysctls: Self.sandboxSysctls(record))
                record.networkNamespace = sandbox
                try update(record, durable: false)
                let ports = Self.publishedPorts(record.spec)
                for (index, join) in record.spec.network.joins.enumerated() {
                    let request = EndpointRequest(network: join.network, ports: index == 0 ? ports : [], names: Self.endpointNames(record, join),
                                                  address: join.address, address6: join.address6)
                    record.endpoints.append(try await attachments.attach(container: record.id, in: sandbox, request))
                    try update(record, durable: false)
                }
            }
            try writeEtcFiles(of: record, hostname: hostname, into: dir)
            let bundle = BundleWriter(containerDirectory: dir, rootfs: rootfs, initBinary: Self.initBinary())
            try bundle.write(record, user: user, baseEnv: try linkEnvironment(of: record), joins: joins)
            started = try await launchMonitor(for: record, bundle: bundle.bundleDirectory)
        } catch {
            try? snapshots.unmount(rootfs)
            await volumes.deactivate(container: record.id)
            await detachNetwork(&record)
            record.state.startPending = nil
            record.state.error = "\(error)"
            try? update(record)
            await failedToStart(record, error: error)
            throw error
        }
        record.state = ContainerState(status: .running, pid: started.processPID, exitCode: 0, error: "", startedAt: .now(), finishedAt: .zero, oomKilled: false, monitorPID: started.monitorPID)
        record.state.restarting = nil
        if HealthSchedule(record.spec.healthcheck) != nil { record.state.health = .starting }
        try update(record)
        publish("start", record)
        let id = record.id
        tasks.watch(pid: started.monitorPID) { [self] in Task { await self.monitorExited(id) } }
        for waiter in attachWaiters.removeValue(forKey: id) ?? [] { waiter.resume() }
    }

    /// Paths of the namespaces of other containers this one joins (`--pid/--ipc
    /// container:<id>`); each must run.
    private func namespaceJoins(_ record: ContainerRecord) throws -> [String: String] {
        var joins: [String: String] = [:]
        let modes = [("pid", "PID", try HostOptions.pid(record.spec)), ("ipc", "IPC", try HostOptions.ipc(record.spec))]
        for (type, kind, mode) in modes {
            guard case .container(let reference) = mode else { continue }
            let other = try resolve(reference)
            guard other.state.isRunning, other.state.pid > 0 else {
                throw EngineError.conflict("cannot join \(kind) of a non running container: \(reference)")
            }
            joins[type] = "/proc/\(other.state.pid)/ns/\(type)"
        }
        if let path = try sharedNetworkNamespace(record) { joins["network"] = path }
        return joins
    }

    private func launchMonitor(for record: ContainerRecord, bundle: String) async throws -> MonitorLauncher.Started {
        let runtime = try runtimePath(record.runtime)
        var arguments = ["container", "--runtime", runtime, "--runtime-root", configuration.runtimeRoot(for: record.runtime),
                         "--bundle", bundle, "--id", record.id, "--dir", monitorDirectory(of: record.id)]
        // Berth's own runtime runs inside the monitor, saving a program start per step.
        if record.runtime == EngineConfiguration.builtinRuntimeName { arguments.append("--in-process") }
        let heldClients = attachWaiters[record.id]?.count ?? 0
        if heldClients > 0 { arguments += ["--hold-output", "\(heldClients)"] }
        arguments += (try LogSettings(record.spec.log)).monitorArguments
        if record.spec.process.tty { arguments.append("--tty") }
        if record.spec.process.openStdin { arguments.append("--stdin") }
        if record.spec.process.stdinOnce { arguments.append("--stdin-once") }
        return try await tasks.startMonitor(arguments: arguments, directory: monitorDirectory(of: record.id))
    }

    func runtimePath(_ name: String) throws -> String {
        guard let path = configuration.runtimes[name] else { throw EngineError.invalidParameter("unknown runtime \(name)") }
        return path
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(cString: buffer)
    }

    static func initBinary() -> String? {
        ["/usr/bin/tini-static", "/usr/bin/docker-init"].first { FileSystem.exists($0) }
    }

    /// Releases everyone waiting on a start that failed: held attach clients get the error and
    /// an auto-remove container is removed, as docker does.
    private func failedToStart(_ record: ContainerRecord, error: Error) async {
        for waiter in attachWaiters.removeValue(forKey: record.id) ?? [] { waiter.resume(throwing: error) }
        if record.spec.autoRemove { try? await removeLocked(record.id, force: true, volumes: true) }
    }

    // MARK: Attach rendezvous

    /// Waits until the container's monitor is up (now, if it runs) and returns the path of its
    /// attach socket. Attach requests made before `start` are held here; `start` tells the
    /// monitor how many there are, and it keeps the output for them, so none is lost.
    public func attachSocket(_ reference: String) async throws -> (path: String, tty: Bool, id: String) {
        let record = try resolve(reference)
        let path = monitorDirectory(of: record.id) + "/attach.sock"
        if !record.state.isRunning {
            guard record.state.status == .created || record.state.status == .exited else {
                throw EngineError.conflict("You cannot attach to a stopped container, start it first")
            }
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                attachWaiters[record.id, default: []].append(continuation)
            }
        }
        return (path, record.spec.process.tty, record.id)
    }

    // MARK: Exit

    /// Records the verdict of a monitor that ended: the exit status it wrote, or — when it died
    /// without one — what can be known about the container.
    func monitorExited(_ id: String) async {
        guard var record = containers[id], record.state.isRunning else { return }
        if let bytes = try? FileSystem.readFile(monitorDirectory(of: id) + "/exit.json"), let exit = try? JSONDecoder().decode(ExitRecord.self, from: Data(bytes)) {
            record.state.exitCode = exit.exitCode
            record.state.finishedAt = exit.finishedAt.flatMap(Timestamp.init(rfc3339:)) ?? .now()
        } else if record.state.pid > 0, Self.processExists(record.state.pid) {
            // The monitor died but the container still runs: keep reporting it as running and
            // watch the process itself; its status can no longer be collected.
            record.state.error = "monitor died; the container's output is no longer collected"
            record.state.monitorPID = 0
            try? update(record)
            let pid = record.state.pid
            tasks.watch(pid: pid) { [self] in Task { await self.unmonitoredProcessExited(id) } }
            return
        } else {
            record.state.exitCode = 255
            record.state.error = "monitor died before recording the exit status"
            record.state.finishedAt = .now()
        }
        await finishExit(record)
    }

    func unmonitoredProcessExited(_ id: String) async {
        guard var record = containers[id], record.state.isRunning else { return }
        record.state.exitCode = 255
        record.state.error = "monitor died; exit status unknown"
        record.state.finishedAt = .now()
        _ = try? await tasks.runRuntime(record.runtime, ["delete", "--force", id])
        await finishExit(record)
    }

    private func finishExit(_ record: ContainerRecord) async {
        var record = record
        record.state.status = .exited
        record.state.pid = 0
        record.state.monitorPID = 0
        record.state.paused = nil
        try? snapshots.unmount(directory(of: record.id) + "/rootfs")
        await volumes.deactivate(container: record.id)
        // The endpoint stays in the record until it is taken down below: a daemon killed in
        // between still knows to take it down.
        if record.spec.autoRemove {
            // The record is about to be removed: no point writing it (a removal that fails
            // persists it as dead).
            containers[record.id] = record
        } else {
            try? update(record)
        }
        publish("die", record, ["exitCode": String(record.state.exitCode)])
        resumeWaiters(record.id, conditions: [.notRunning, .nextExit], result: WaitResult(statusCode: record.state.exitCode, error: nil))
        if let sandbox = record.networkNamespace, var current = containers[record.id], current.networkNamespace == sandbox, !current.state.isRunning {
            await detachNetwork(&current)
            if var latest = containers[record.id], latest.networkNamespace == sandbox {
                latest.endpoints = []
                latest.networkNamespace = nil
                if record.spec.autoRemove { containers[record.id] = latest } else { try? update(latest) }
            }
        }
        if record.spec.autoRemove {
            try? await remove(record.id, force: true, volumes: true)
        }
    }

    /// The `net.` sysctls the engine sets in a container's new network namespace: for a
    /// container in the daemon's user namespace, docker's defaults (unprivileged ports from 0,
    /// ping for every group) and its own `--sysctl net.…`, which its root cannot write into a
    /// namespace the engine made; none otherwise (the runtime writes them from the bundle).
    static func sandboxSysctls(_ record: ContainerRecord) -> [String: String] {
        guard record.userNamespace != nil else { return [:] }
        let defaults = ["net.ipv4.ip_unprivileged_port_start": "0", "net.ipv4.ping_group_range": "0 2147483647"]
        return defaults.merging(record.spec.security.sysctls.filter { $0.key.hasPrefix("net.") }) { $1 }
    }

    /// The bindings to publish: those asked for, then with `-P` every other exposed port on a
    /// free host port.
    static func publishedPorts(_ spec: ContainerSpec) -> [PortBinding] {
        var bindings = spec.network.portBindings
        if spec.network.publishAllPorts {
            let bound = Set(bindings.map { "\($0.containerPort)/\($0.proto)" })
            for key in spec.exposedPorts where !bound.contains(key) {
                guard let (port, proto) = try? PortBinding.parseKey(key) else { continue }
                bindings.append(PortBinding(containerPort: port, proto: proto))
            }
        }
        return bindings
    }

    /// Takes the network namespace of the container's run down with its endpoints.
    func detachNetwork(_ record: inout ContainerRecord) async {
        if let sandbox = record.networkNamespace { await attachments?.release(sandbox: sandbox) }
        record.endpoints = []
        record.networkNamespace = nil
    }

    /// Whether a process with this PID exists and is not a zombie.
    static func processExists(_ pid: Int32) -> Bool {
        guard let stat = try? FileSystem.readFile("/proc/\(pid)/stat") else { return false }
        let text = String(decoding: stat, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        return !text[close...].hasPrefix(") Z")
    }

    // MARK: Wait

    /// `docker wait`: the exit status once `condition` holds; nil if `timeout` passed first.
    public func wait(_ reference: String, condition: WaitCondition, timeoutNanoseconds: UInt64? = nil) async throws -> WaitResult? {
        let record = try resolve(reference)
        if condition == .notRunning && !record.state.isRunning {
            return WaitResult(statusCode: record.state.exitCode, error: nil)
        }
        nextToken += 1
        let token = nextToken
        let id = record.id
        if let timeoutNanoseconds {
            Task {
                try? await Task.sleep(nanoseconds: timeoutNanoseconds)
                self.expireWaiter(id, token: token)
            }
        }
        return await withCheckedContinuation { continuation in
            waiters[id, default: []].append(Waiter(token: token, condition: condition, continuation: continuation))
        }
    }

    private func expireWaiter(_ id: String, token: UInt64) {
        guard let index = waiters[id]?.firstIndex(where: { $0.token == token }) else { return }
        waiters[id]?.remove(at: index).continuation.resume(returning: nil)
    }

    func resumeWaiters(_ id: String, conditions: Set<WaitCondition>, result: WaitResult) {
        var kept: [Waiter] = []
        for waiter in waiters[id] ?? [] {
            if conditions.contains(waiter.condition) { waiter.continuation.resume(returning: result) } else { kept.append(waiter) }
        }
        waiters[id] = kept.isEmpty ? nil : kept
    }

    // MARK: Signals

    /// `docker kill`: sends `signal` (name or number; default KILL) to the container's process.
    public func kill(_ reference: String, signal: String?) async throws {
        var record = try resolve(reference)
        if record.state.isRestarting {
            record.manuallyStopped = true
            record.state.restarting = nil
            try update(record)
            return
        }
        guard record.state.isRunning else {
            throw EngineError.conflict("Cannot kill container: \(reference): Container \(record.id) is not running")
        }
        if record.manuallyStopped != true {
            record.manuallyStopped = true
            try update(record, durable: false)
        }
        let name = try Signals.normalize(signal ?? "KILL")
        let result = try await tasks.runRuntime(record.runtime, ["kill", record.id, name])
        if result.status != 0, containers[record.id]?.state.isRunning == true {
            throw EngineError.failure("cannot kill container \(record.id): \(result.stderrText)")
        }
        publish("kill", record, ["signal": String(try Signals.number(name))])
        await resumeAfterSignal(record.id)
    }

    /// `docker stop`: the stop signal, then KILL after `timeout` seconds (the container's
    /// StopTimeout or 10 by default). Throws `notModified` when it is not running.
    public func stop(_ reference: String, timeout: Int?) async throws {
        let id = try resolve(reference).id
        try await exclusively(id) { try await stopLocked(id, timeout: timeout) }
    }

    private func stopLocked(_ id: String, timeout: Int?) async throws {
        var record = try resolve(id)
        if record.state.isRestarting {
            // Stopping a container that waits to be restarted cancels the restart.
            record.manuallyStopped = true
            record.state.restarting = nil
            try update(record)
            publish("stop", record)
            return
        }
        guard record.state.isRunning else { throw EngineError.notModified }
        record.manuallyStopped = true
        try update(record, durable: false)
        let seconds = timeout ?? record.spec.stopTimeout ?? 10
        let signal = record.spec.stopSignal.isEmpty ? "TERM" : record.spec.stopSignal
        defer { if let stopped = containers[id] { publish("stop", stopped) } }
        if seconds != 0 {
            try? await kill(record.id, signal: signal)
            // A timeout too long to count in nanoseconds is as good as forever.
            let product = UInt64(clamping: seconds).multipliedReportingOverflow(by: 1_000_000_000)
            let waitNanos = seconds < 0 || product.overflow ? nil : product.partialValue
            if await waitQuietly(record.id, condition: .notRunning, timeoutNanoseconds: waitNanos) != nil { return }
        }
        try? await kill(record.id, signal: "KILL")
        _ = await waitQuietly(record.id, condition: .notRunning, timeoutNanoseconds: 30_000_000_000)
    }

    /// `docker restart`.
    public func restart(_ reference: String, timeout: Int?) async throws {
        let id = try resolve(reference).id
        try await exclusively(id) {
            do { try await stopLocked(id, timeout: timeout) } catch EngineError.notModified {}
            try startedByUser(id)
            try await startLocked(id)
            if let record = containers[id] { publish("restart", record) }
        }
    }

    private func waitQuietly(_ id: String, condition: WaitCondition, timeoutNanoseconds: UInt64?) async -> WaitResult? {
        (try? await wait(id, condition: condition, timeoutNanoseconds: timeoutNanoseconds)) ?? nil
    }

    /// Sets the pty size of a running container with a TTY.
    public func resize(_ reference: String, rows: Int, columns: Int) async throws {
        let record = try resolve(reference)
        guard record.state.isRunning else { throw EngineError.notRunning(record.id) }
        try await MonitorControl.resize(socket: monitorDirectory(of: record.id) + "/attach.sock", rows: rows, columns: columns)
    }
}
