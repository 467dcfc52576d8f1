import CBerthSys
import Glibc
import OCI

extension ContainerRuntime {
    /// Runs `process` inside container `id`: its namespaces (read from its init), its cgroup,
    /// and the process's own user, capabilities, rlimits and terminal. Detached, returns 0 once
    /// the process has exec'd; otherwise waits and returns its exit status. Descriptors 3 to
    /// 3+`preserveFDs`-1 are passed on to the process.
    public func exec(id: String, process: RuntimeSpec.Process, consoleSocket: String? = nil, pidFile: String? = nil,
                     preserveFDs: Int = 0, detach: Bool = false) throws -> Int32 {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status != .stopped && status != .paused else {
            throw RuntimeError.wrongState(id: id, status: status.rawValue, operation: "exec in")
        }
        if process.terminal == true && consoleSocket == nil {
            throw RuntimeError.invalidConfig("a terminal was requested but no --console-socket was given")
        }
        let plan = NamespacePlan(joining: record.pid, kinds: record.namespaces.compactMap(NamespaceKind.init(rawValue:)))
        let cgroup = try cgroup(of: record)
        let seccomp = try seccompCompiler.filter(for: Bundle(path: record.bundle))
        let console = try consoleSocket.map(Console.connect(to:))
        defer { if let console { close(console) } }
        let namespaces = try plan.openJoins()
        defer { for entry in namespaces { close(entry.fd) } }
        let inheritedRoot = try plan.openInheritedRoot(of: record.pid)
        defer { if let inheritedRoot { close(inheritedRoot) } }
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close() }
        try plan.enterPidNamespaceForChildren()
        let pid = berth_clone_fork(0)
        if pid == 0 {
            parent.close()
            ExecInit(process: process, namespaces: namespaces, inheritedRoot: inheritedRoot, channel: child, consoleSocket: console,
                     preservedDescriptors: preserveFDs, seccomp: seccomp).run()
        }
        child.close()
        guard pid > 0 else { throw RuntimeError.errno("fork the exec process") }
        do {
            try cgroup.add(pid: pid)
            parent.send(.go)
            // The channel closes on a successful execve; a message means set-up failed.
            if case let .error(message) = parent.receive() { throw RuntimeError.initFailed(message) }
            try writePidFile(pidFile, pid: pid)
        } catch {
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            throw error
        }
        if detach { return 0 }
        SignalForwarding.start(to: pid)
        return try SignalForwarding.wait(for: pid)
    }

    /// The process of the container's bundle with `args` (and `terminal`) replaced, as `exec`
    /// without `--process` runs it.
    public func bundleProcess(id: String, args: [String], terminal: Bool) throws -> RuntimeSpec.Process {
        let record = try store.load(id)
        guard var process = try Bundle(path: record.bundle).spec.process else {
            throw RuntimeError.invalidBundle(path: record.bundle, reason: "\"process\" is missing")
        }
        process.args = args
        process.terminal = terminal
        return process
    }
}
