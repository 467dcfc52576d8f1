import BerthSystem
import Glibc
import OCI

/// Berth's OCI runtime (runtime-spec runtime.md "Operations"): create, start, state, kill,
/// delete, plus run and exec, with runc's semantics, keeping its state under `root`.
/// Everything is synchronous and single-threaded, because namespaces are created by forking
/// this process.
public struct ContainerRuntime {
    /// Where container records live.
    public let store: StateStore

    /// `root` is the state directory (`--root`), created on first use.
    public init(root: String) {
        store = StateStore(root: root)
    }

    /// Compiles seccomp profiles, keeping the filters under `<root>/~seccomp` (`~` cannot
    /// occur in a container ID).
    var seccompCompiler: SeccompCompiler { SeccompCompiler(cacheDirectory: store.root + "/~seccomp") }

    /// The OCI state of container `id`.
    public func state(id: String) throws -> RuntimeState {
        store.state(of: try store.load(id))
    }

    /// Sends `signal` to the container's init, or with `all` to every process in its cgroup.
    /// Fails when the container is stopped.
    public func kill(id: String, signal: Int32, all: Bool = false) throws {
        let record = try store.load(id)
        guard store.status(of: record) != .stopped else {
            throw RuntimeError.wrongState(id: id, status: "stopped", operation: "kill")
        }
        if all {
            for pid in try cgroup(of: record).processes() { _ = Glibc.kill(pid, signal) }
        }
        if Glibc.kill(record.pid, signal) != 0 && errno != ESRCH {
            throw RuntimeError.errno("send signal \(signal) to container \(id)")
        }
    }

    /// Removes the container's state and cgroup. A created container is killed first (as runc
    /// does); a running one only with `force`. With `force`, a missing container is not an error.
    public func delete(id: String, force: Bool = false) throws {
        let record: ContainerRecord
        do {
            record = try store.load(id)
        } catch RuntimeError.containerNotFound(let missing) {
            // A create that died before writing its record leaves only the directory.
            if FileSystem.exists(store.directory(of: missing)) { try store.remove(missing); return }
            if force { return }
            throw RuntimeError.containerNotFound(missing)
        }
        let cgroup = try cgroup(of: record)
        let status = store.status(of: record)
        if (status == .running || status == .paused) && !force {
            throw RuntimeError.wrongState(id: id, status: "running", operation: "delete (stop it first or use --force)")
        }
        if status == .paused {
            // A frozen process cannot die; thaw with SIGKILL already queued.
            _ = Glibc.kill(record.pid, SIGKILL)
            for pid in cgroup.processes() { _ = Glibc.kill(pid, SIGKILL) }
            try Freezer.set(frozen: false, record.cgroupPaths)
        }
        if status != .stopped {
            _ = Glibc.kill(record.pid, SIGKILL)
            waitUntilGone(record)
        }
        // Without a pid namespace, processes init left behind are still in the cgroup.
        for pid in cgroup.processes() { _ = Glibc.kill(pid, SIGKILL) }
        try cgroup.remove()
        try store.remove(id)
        if let hooks = record.hooks(\.poststop, recorded: record.poststop), !hooks.isEmpty {
            var state = store.state(of: record)
            state.status = ContainerStatus.stopped.rawValue
            Hooks.runWarning(hooks, phase: "poststop", state: state)
        }
    }

    /// Changes the resource limits of a created, running or paused container (runc's
    /// `update --resources`).
    public func update(id: String, resources: RuntimeSpec.Resources) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status != .stopped else { throw RuntimeError.wrongState(id: id, status: status.rawValue, operation: "update") }
        try cgroup(of: record).update(resources: resources)
    }

    /// Freezes every process of a running container (runc's `pause`).
    public func pause(id: String) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status == .running else { throw RuntimeError.wrongState(id: id, status: status.rawValue, operation: "pause") }
        try Freezer.set(frozen: true, record.cgroupPaths)
    }

    /// Thaws a paused container (runc's `resume`).
    public func resume(id: String) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status == .paused else { throw RuntimeError.wrongState(id: id, status: status.rawValue, operation: "resume") }
        try Freezer.set(frozen: false, record.cgroupPaths)
    }

    func cgroup(of record: ContainerRecord) throws -> ContainerCgroup {
        ContainerCgroup(paths: record.cgroupPaths, layout: try CgroupLayout.current())
    }

    /// Polls until init has exited (gone, a zombie, or its pid reused), for up to 5 seconds.
    func waitUntilGone(_ record: ContainerRecord) {
        for _ in 0..<1000 {
            guard let info = ProcessInfo(pid: record.pid), !info.isZombie, info.startTime == record.pidStartTime else { return }
            usleep(5000)
        }
    }

    /// Writes `pid` to `path` atomically, for `--pid-file`.
    func writePidFile(_ path: String?, pid: Int32) throws {
        guard let path else { return }
        do {
            try FileSystem.writeAtomically(Paths.absolute(path), bytes: Array("\(pid)".utf8))
        } catch let error as FileSystemError {
            throw RuntimeError.system(operation: error.operation, errno: error.errno)
        }
    }
}
