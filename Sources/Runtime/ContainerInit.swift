import CBerthSys
import Glibc
import OCI

/// The container's first process between `clone` and `execve`. It runs in the forked child of
/// the single-threaded runtime, reports every failure to the parent as a message and never
/// returns.
struct ContainerInit {
    let bundle: Bundle
    let process: RuntimeSpec.Process
    let plan: NamespacePlan
    let cgroup: ContainerCgroup
    let channel: SyncChannel
    let consoleSocket: Int32?
    /// `O_PATH` descriptor of the container's state directory, holding `exec.fifo`.
    let stateDirectory: Int32
    /// Descriptors 3… passed on to the container (`--preserve-fds`).
    let preservedDescriptors: Int
    let seccomp: SeccompFilter?
    /// Join a new anonymous session keyring (keys are not namespaced: without this the
    /// container would share the caller's session keyring).
    let newKeyring: Bool

    static let prSetDumpable: Int32 = 4
    static let prSetParentDeathSignal: Int32 = 1

    func run() -> Never {
        do {
            try setUp()
        } catch {
            channel.send(.error("\(error)"))
            _exit(1)
        }
        // Blocks until `start` opens the fifo for reading.
        let fifo = openat(stateDirectory, "exec.fifo", O_WRONLY | O_CLOEXEC)
        guard fifo >= 0 else { ContainerInit.die("open exec fifo: \(String(cString: strerror(errno)))") }
        var byte: UInt8 = 0x30
        guard write(fifo, &byte, 1) == 1 else { ContainerInit.die("write exec fifo: \(String(cString: strerror(errno)))") }
        let setup = ProcessSetup(process: process, preservedDescriptors: preservedDescriptors, seccomp: seccomp)
        let failure: RuntimeError
        do {
            let command = setup.command(at: try setup.resolveExecutable())
            // The filter goes on last, so nothing the runtime does depends on what it allows.
            try setup.lockDown()
            failure = command.exec()
        } catch let error as RuntimeError {
            failure = error
        } catch {
            failure = .initFailed("\(error)")
        }
        ContainerInit.die("\(failure)", code: failure.exitCode)
    }

    private func setUp() throws {
        // Nothing in the container may ptrace or read /proc of init before it execs (CVE-2016-9962).
        _ = berth_prctl(ContainerInit.prSetDumpable, 0, 0, 0, 0)
        // Die with the runtime while it still waits for us (cleared once we report ready). Had it
        // died before this, waiting for `go` notices the closed channel.
        _ = berth_prctl(ContainerInit.prSetParentDeathSignal, UInt(SIGKILL), 0, 0, 0)
        // In its cgroup before any set-up, so every limit (memory, pids, devices) applies to all
        // of it and nothing of the container is charged to the runtime's cgroup.
        try awaitCgroup()
        if plan.entersUserNamespace { try NamespacePlan.becomeNamespaceRoot() }
        try NamespacePlan.join(plan.openJoins(afterClone: true))
        if newKeyring {
            try check(berth_join_session_keyring(nil) < 0 ? -1 : 0, "join a new session keyring")
        }
        if let hostname = bundle.spec.hostname, !hostname.isEmpty {
            try check(sethostname(hostname, hostname.utf8.count), "set hostname \(hostname)")
        }
        let rootfs = RootFilesystem(spec: bundle.spec, bundle: bundle, cgroup: cgroup, cgroupNamespace: plan.unshareCgroup)
        if plan.hasMountNamespace {
            try rootfs.prepare()
            try rootfs.pivot()
        } else {
            try rootfs.applySysctls()
            try rootfs.changeRoot()
        }
        if process.terminal == true, let socket = consoleSocket {
            try Console.attach(socket: socket, size: process.consoleSize, bindDevConsole: plan.hasMountNamespace)
        }
        if plan.hasMountNamespace { try rootfs.finalize() }
        let setup = ProcessSetup(process: process, preservedDescriptors: preservedDescriptors, seccomp: seccomp)
        try setup.applyRlimits()
        try setup.closeInheritedDescriptors()
        try setup.becomeUser()
        // Resolved now so that a missing command is an error of `create`, as with runc.
        _ = try setup.resolveExecutable()
        // Cleared before reporting: `create` exits as soon as it reads `ready`.
        _ = berth_prctl(ContainerInit.prSetParentDeathSignal, 0, 0, 0, 0)
        channel.send(.ready)
        channel.close()
    }

    /// Waits until the parent has placed this process in its cgroup, then enters a new cgroup
    /// namespace if asked (rooted at the container's cgroup).
    private func awaitCgroup() throws {
        guard channel.receive() == .go else { _exit(1) }
        if plan.unshareCgroup {
            try check(berth_unshare(berth_CLONE_NEWCGROUP), "create the cgroup namespace")
        }
    }

    /// Writes `message` to stderr and exits; used once the parent no longer listens.
    static func die(_ message: String, code: Int32 = 1) -> Never {
        let bytes = Array("berth-runtime: \(message)\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        _exit(code)
    }
}
