#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BerthSystem
import OCI

/// What an exec runs, in Berth's terms (the API translates docker's exec body into it).
public struct ExecSpec: Sendable, Equatable {
    /// The command; never empty once created.
    public var cmd: [String] = []
    /// `KEY=VALUE` entries added to the container's environment.
    public var env: [String] = []
    /// Empty: the container's user.
    public var user = ""
    /// Empty: the container's working directory.
    public var workingDir = ""
    public var tty = false
    public var attachStdin = false
    public var attachStdout = false
    public var attachStderr = false
    /// Reported back only: an exec gets the container's privileges.
    public var privileged = false
    /// The keys that detach a client from the exec (docker's notation); empty: the default.
    public var detachKeys = ""

    public init(cmd: [String] = []) {
        self.cmd = cmd
    }
}

/// An exec instance, kept in memory like docker's.
public struct ExecRecord: Sendable, Equatable {
    public var id: String
    public var containerID: String
    public var spec: ExecSpec
    public var running: Bool
    public var exitCode: Int32?
    public var pid: Int32
    public var started: Bool
    /// A terminal size asked for before the process ran (rows, columns); applied when it starts.
    public var pendingSize: (rows: Int, columns: Int)?

    public static func == (a: ExecRecord, b: ExecRecord) -> Bool {
        a.id == b.id && a.containerID == b.containerID && a.spec == b.spec && a.running == b.running
            && a.exitCode == b.exitCode && a.pid == b.pid && a.started == b.started
            && a.pendingSize?.rows == b.pendingSize?.rows && a.pendingSize?.columns == b.pendingSize?.columns
    }
}

extension ContainerService {
    /// `POST /containers/{id}/exec`: records an exec for a running container.
    public func createExec(_ reference: String, spec: ExecSpec) throws -> String {
        let record = try resolve(reference)
        try ensureAcceptsExec(record)
        guard !spec.cmd.isEmpty else { throw EngineError.invalidParameter("No exec command specified") }
        let id = Self.newID()
        execs[id] = ExecRecord(id: id, containerID: record.id, spec: spec, running: false, exitCode: nil, pid: 0, started: false, pendingSize: nil)
        publish("exec_create: " + spec.cmd.joined(separator: " "), record, ["execID": id])
        return id
    }

    /// An exec needs a running container that is not paused (docker's answers otherwise).
    private func ensureAcceptsExec(_ record: ContainerRecord) throws {
        guard record.state.isRunning else { throw EngineError.notRunning(record.id) }
        guard !record.state.isPaused else { throw EngineError.conflict("Container \(record.id) is paused, unpause the container before exec") }
    }

    /// The exec instance `id`.
    public func exec(_ id: String) throws -> ExecRecord {
        guard let exec = execs[id] else { throw EngineError.noSuchExec(id) }
        return exec
    }

    /// Directory of an exec's monitor (its attach socket and exit record), short for the same
    /// reason as `monitorDirectory(of:)`.
    func execDirectory(_ exec: ExecRecord) -> String {
        configuration.execRoot + "/e/" + exec.id.prefix(16)
    }

    /// Starts an exec's process through a monitor; returns its attach socket path. The monitor
    /// keeps the first 64 KiB of output for the client that connects right after.
    public func startExec(_ id: String) async throws -> String {
        var exec = try exec(id)
        guard !exec.started else { throw EngineError.conflict("exec \(id) has already been started") }
        let container = try resolve(exec.containerID)
        try ensureAcceptsExec(container)
        let dir = execDirectory(exec)
        try FileSystem.makeDirectories(dir, mode: 0o700)
        let process = try execProcess(in: container, exec: exec.spec)
        try FileSystem.writeAtomically(dir + "/process.json", bytes: Array(JSONEncoder().encode(process)), mode: 0o600, durable: false)
        var arguments = ["exec", "--runtime", try runtimePath(container.runtime), "--runtime-root", configuration.runtimeRoot(for: container.runtime),
                         "--id", container.id, "--process", dir + "/process.json", "--dir", dir]
        if exec.spec.tty { arguments.append("--tty") }
        // docker closes an exec's stdin when the client's stdin ends.
        if exec.spec.attachStdin { arguments += ["--stdin", "--stdin-once"] }
        exec.started = true
        execs[id] = exec
        let started: MonitorLauncher.Started
        do {
            started = try await tasks.startMonitor(arguments: arguments, directory: dir)
        } catch {
            // It never ran: recorded as failed, so nobody waits for it.
            if var failed = execs[id] {
                failed.exitCode = 126
                execs[id] = failed
            }
            execWaiters.removeValue(forKey: id)?.forEach { $0.resume() }
            throw error
        }
        exec = execs[id] ?? exec
        exec.running = true
        exec.pid = started.processPID
        execs[id] = exec
        publish("exec_start: " + exec.spec.cmd.joined(separator: " "), container, ["execID": id])
        if let size = exec.pendingSize {
            try? await MonitorControl.resize(socket: dir + "/attach.sock", rows: size.rows, columns: size.columns)
        }
        tasks.watch(pid: started.monitorPID) { [self] in Task { await self.execExited(id) } }
        return dir + "/attach.sock"
    }

    /// The process an exec runs: the container's own (environment, capabilities, limits,
    /// seccomp) with the exec's command, TTY, user, working directory and extra environment.
    func execProcess(in container: ContainerRecord, exec: ExecSpec) throws -> RuntimeSpec.Process {
        let bundleConfig = directory(of: container.id) + "/bundle/config.json"
        let spec = try JSONDecoder().decode(RuntimeSpec.self, from: Data(FileSystem.readFile(bundleConfig)))
        guard var process = spec.process else { throw EngineError.failure("bundle of \(container.id) has no process") }
        let user = try UserResolver(rootfs: directory(of: container.id) + "/rootfs").resolve(exec.user.isEmpty ? container.spec.process.user : exec.user,
                                                                                   groupAdd: container.spec.security.groupAdd)
        process.args = exec.cmd
        process.terminal = exec.tty
        process.user = .init(uid: user.uid, gid: user.gid, additionalGids: user.additionalGids)
        if !exec.workingDir.isEmpty { process.cwd = exec.workingDir }
        var env = process.env ?? []
        for entry in exec.env where entry.contains("=") {
            let key = entry.split(separator: "=", maxSplits: 1)[0]
            env.removeAll { $0.split(separator: "=", maxSplits: 1).first == key }
            env.append(entry)
        }
        process.env = env
        return process
    }

    func execExited(_ id: String) {
        guard var exec = execs[id] else { return }
        let path = execDirectory(exec) + "/exit.json"
        if let bytes = try? FileSystem.readFile(path), let exit = try? JSONDecoder().decode(ExitRecord.self, from: Data(bytes)) {
            exec.exitCode = exit.exitCode
        } else {
            exec.exitCode = 255
        }
        exec.running = false
        execs[id] = exec
        if let container = containers[exec.containerID] {
            publish("exec_die", container, ["execID": id, "exitCode": String(exec.exitCode ?? 255)])
        }
        execWaiters.removeValue(forKey: id)?.forEach { $0.resume() }
    }

    /// Returns once the exec has finished (at once if it has).
    public func waitForExec(_ id: String) async {
        // Not started (or refused before it was): nothing to wait for.
        guard let exec = execs[id], exec.started, exec.exitCode == nil else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            execWaiters[id, default: []].append(continuation)
        }
    }

    /// Sets the pty size of an exec; before it runs, the size is kept and applied at start.
    public func resizeExec(_ id: String, rows: Int, columns: Int) async throws {
        var exec = try exec(id)
        if !exec.running && exec.exitCode == nil {
            exec.pendingSize = (rows, columns)
            execs[id] = exec
            return
        }
        guard exec.running else { throw EngineError.conflict("exec \(id) is not running") }
        try await MonitorControl.resize(socket: execDirectory(exec) + "/attach.sock", rows: rows, columns: columns)
    }
}

extension ContainerService {
    /// IDs of the exec instances of a container (inspect's `ExecIDs`).
    public func execIDs(of containerID: String) -> [String] {
        execs.values.filter { $0.containerID == containerID }.map(\.id).sorted()
    }
}
