import CBerthSys
import Glibc
import OCI

extension ContainerRuntime {
    /// Creates container `id` from the bundle: namespaces, cgroup with resources, root file
    /// system, user and capabilities. Returns once init waits on the exec fifo for `start`
    /// (and the command is known to exist), with init's pid. On failure nothing is left behind.
    /// Descriptors 3 to 3+`preserveFDs`-1 are passed on to the container; no others are.
    /// With `newKeyring` (runc's default; `--no-new-keyring` turns it off) init joins a new
    /// anonymous session keyring, so the container cannot reach the caller's keys.
    @discardableResult
    public func create(id: String, bundlePath: String, consoleSocket: String? = nil, pidFile: String? = nil, preserveFDs: Int = 0,
                       newKeyring: Bool = true) throws -> Int32 {
        try StateStore.validate(id: id)
        let bundle = try Bundle(path: bundlePath)
        guard let process = bundle.spec.process else {
            throw RuntimeError.invalidBundle(path: bundle.path, reason: "\"process\" is missing")
        }
        if process.terminal == true && consoleSocket == nil {
            throw RuntimeError.invalidConfig("process.terminal is true but no --console-socket was given")
        }
        let plan = try NamespacePlan(spec: bundle.spec.linux?.namespaces ?? [])
        try SpecValidation.validate(bundle.spec, namespaces: plan.kinds)
        if plan.createsUserNamespace && ((bundle.spec.linux?.uidMappings ?? []).isEmpty || (bundle.spec.linux?.gidMappings ?? []).isEmpty) {
            throw RuntimeError.invalidConfig("a new user namespace needs linux.uidMappings and linux.gidMappings")
        }
        let cgroup = ContainerCgroup(cgroupsPath: bundle.spec.linux?.cgroupsPath, id: id, layout: try CgroupLayout.current())
        try store.makeDirectory(for: id)
        do {
            let pid = try spawnInit(id: id, bundle: bundle, process: process, plan: plan, cgroup: cgroup,
                                    consoleSocket: consoleSocket, preserveFDs: preserveFDs, newKeyring: newKeyring)
            guard let info = ProcessInfo(pid: pid) else {
                throw RuntimeError.initDied("process \(pid) vanished after set-up")
            }
            let record = ContainerRecord(
                id: id, bundle: bundle.path, rootfs: bundle.rootfs, pid: pid, pidStartTime: info.startTime,
                cgroupPaths: cgroup.paths, namespaces: plan.kinds.map(\.rawValue), annotations: bundle.spec.annotations,
                poststart: bundle.spec.hooks?.poststart ?? [], poststop: bundle.spec.hooks?.poststop ?? [])
            do {
                try store.save(record)
                try writePidFile(pidFile, pid: pid)
            } catch {
                _ = Glibc.kill(pid, SIGKILL)
                throw error
            }
            return pid
        } catch {
            try? cgroup.remove()
            try? store.remove(id)
            throw error
        }
    }

    private func spawnInit(id: String, bundle: Bundle, process: RuntimeSpec.Process, plan: NamespacePlan,
                           cgroup: ContainerCgroup, consoleSocket: String?, preserveFDs: Int, newKeyring: Bool) throws -> Int32 {
        let fifo = store.fifoPath(of: id)
        try check(mkfifo(fifo, 0o622), "create \(fifo)")
        try check(chmod(fifo, 0o622), "set the mode of \(fifo)")
        let seccomp = try seccompCompiler.filter(for: bundle)
        let stateDirectory = try check(open(store.directory(of: id), O_PATH | O_DIRECTORY | O_CLOEXEC), "open the state directory")
        defer { close(stateDirectory) }
        try cgroup.create(resources: bundle.spec.linux?.resources)
        let console = try consoleSocket.map(Console.connect(to:))
        defer { if let console { close(console) } }
        let (parent, child) = try SyncChannel.pair()
        defer { parent.close() }
        try plan.enterPidNamespaceForChildren()
        let own = try plan.enterForClone()
        let pid = try plan.cloneInit()
        if pid == 0 {
            parent.close()
            ContainerInit(bundle: bundle, process: process, plan: plan, cgroup: cgroup, channel: child,
                          consoleSocket: console, stateDirectory: stateDirectory, preservedDescriptors: preserveFDs, seccomp: seccomp, newKeyring: newKeyring).run()
        }
        child.close()
        let cloneErrno = errno
        try NamespacePlan.leave(own)
        errno = cloneErrno
        guard pid > 0 else { throw RuntimeError.errno("create the container's namespaces (clone)") }
        do {
            // In the cgroup before init runs a single step of set-up, so every limit applies.
            try cgroup.add(pid: pid)
            if plan.createsUserNamespace {
                try NamespacePlan.writeIDMaps(pid: pid, uids: bundle.spec.linux?.uidMappings ?? [], gids: bundle.spec.linux?.gidMappings ?? [])
            }
            // From here: init is not dumpable, so inside a user namespace its /proc files belong
            // to a root it does not map and it could not write this itself.
            if let score = process.oomScoreAdj {
                try CgroupFile.write("/proc/\(pid)/oom_score_adj", "\(score)")
            }
            // The namespaces exist and init has not run container code yet: the moment for hooks
            // that configure them from the host (a network namespace, for example).
            let hooks = bundle.spec.hooks
            if hooks?.prestart != nil || hooks?.createRuntime != nil {
                let state = RuntimeState(id: id, status: "creating", pid: pid, bundle: bundle.path, annotations: bundle.spec.annotations)
                try Hooks.run(hooks?.prestart, phase: "prestart", state: state)
                try Hooks.run(hooks?.createRuntime, phase: "createRuntime", state: state)
            }
            parent.send(.go)
            switch parent.receive() {
            case .ready: return pid
            case let .error(message): throw RuntimeError.initFailed(message)
            case .go, .closed: throw RuntimeError.initDied("it exited without reporting")
            }
        } catch {
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            throw error
        }
    }

    /// Lets a created container's init exec its process (opens the exec fifo). Fails unless the
    /// container is `created`.
    public func start(id: String) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status == .created else {
            throw RuntimeError.wrongState(id: id, status: status.rawValue, operation: "start")
        }
        let fifoPath = store.fifoPath(of: id)
        // Non-blocking, so a dead init cannot leave `start` hanging on the open.
        let fifo = try check(open(fifoPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC), "open \(fifoPath)")
        defer { close(fifo) }
        while true {
            var entry = pollfd(fd: fifo, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 50)
            if ready < 0 && errno != EINTR { throw RuntimeError.errno("wait on \(fifoPath)") }
            if ready > 0 {
                var byte: UInt8 = 0
                if read(fifo, &byte, 1) == 1 { break }
                throw RuntimeError.initDied("it closed the exec fifo without writing")
            }
            if store.status(of: record) == .stopped {
                throw RuntimeError.initDied("it exited before start")
            }
        }
        unlink(fifoPath)
        if let hooks = record.hooks(\.poststart, recorded: record.poststart), !hooks.isEmpty {
            Hooks.runWarning(hooks, phase: "poststart", state: store.state(of: record))
        }
    }

    /// create + start. Detached, returns 0 once started; otherwise waits, forwarding signals,
    /// deletes the container and returns its exit status (128+N when killed by signal N).
    public func run(id: String, bundlePath: String, consoleSocket: String? = nil, pidFile: String? = nil,
                    preserveFDs: Int = 0, newKeyring: Bool = true, detach: Bool = false) throws -> Int32 {
        let pid = try create(id: id, bundlePath: bundlePath, consoleSocket: consoleSocket, pidFile: pidFile, preserveFDs: preserveFDs,
                             newKeyring: newKeyring)
        do {
            try start(id: id)
        } catch {
            try? delete(id: id, force: true)
            throw error
        }
        if detach { return 0 }
        SignalForwarding.start(to: pid)
        let status = try SignalForwarding.wait(for: pid)
        try delete(id: id, force: true)
        return status
    }
}
